"""What every command prints: plain-text tables, JSON, money, times, ``path:line: error``
lines and warnings, and the filter that keeps control characters from input files off the
terminal. Cheap to import (stdlib and orjson): ``baton --help`` loads it."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

# C0 and C1 control characters except tab, newline and carriage return (the progress bar).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Printable:
    """A text stream that drops control characters: text from input files (an agent id, a
    task, an error) must not move the cursor, retitle the window or clear the screen."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_CONTROL.sub("", text))

    def __getattr__(self, name: str) -> Any:  # flush, isatty, buffer (raw bytes), fileno ...
        return getattr(self._stream, name)


@contextmanager
def printable_output() -> Iterator[None]:
    """Within the block, text written to stdout and stderr loses its control characters."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(sys.stdout), _Printable(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")


def shorten(value: Any, width: int) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 48) -> None:
    cells = [[shorten(c, max_width) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def add_db_option(parser: Any) -> None:
    parser.add_argument(
        "--db", metavar="URL", help="database URL (default: $BATON_DB_URL or ~/.baton/baton.db)"
    )


def format_time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def error_line(path: str, line: int | None, error: str) -> str:
    """``path:line: error``, or ``path: error`` when the line is not known."""
    return path + (f":{line}" if line else "") + f": {error}"


def print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"baton: warning: {warning}", file=sys.stderr)


def format_usd(value: float) -> str:
    """Dollars with enough digits to be seen: ``$1.23``, ``$0.0123``, ``$0.000081``."""
    if value == 0 or value >= 1:
        return f"${value:,.2f}"
    return f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def money(cost: float | None, unpriced_calls: int) -> str:
    """``$0.0123``, ``$0.0123 + 2 unpriced``, ``unpriced (2 calls)``, or ``-`` without usage."""
    unpriced = f"{unpriced_calls} unpriced call{'s' if unpriced_calls != 1 else ''}"
    if cost is None:
        return unpriced if unpriced_calls else "-"
    return format_usd(cost) + (f" + {unpriced}" if unpriced_calls else "")


def cost_text(run: dict[str, Any]) -> str:
    """A run's priced cost plus its unpriced calls; never "$0" for calls without a price."""
    if run.get("cost_usd") is None and not run.get("unpriced_calls"):
        return ""
    return money(run.get("cost_usd"), run.get("unpriced_calls") or 0)


def failure_text(run: dict[str, Any]) -> str | None:
    """``[class] reason`` of a failed run, or its bare reason."""
    if run.get("failure_class"):
        return f"[{run['failure_class']}] {run['failure_reason'] or ''}".strip()
    return run.get("failure_reason")

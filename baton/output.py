"""What every command prints: plain-text tables, JSON, money, times, ``path:line: error``
lines and warnings, and the two guards that keep text from input files (a file name, an
agent id, an error) from forging output or driving the terminal:

- ``escape(value)`` where a value is formatted into a line: a newline or carriage return in
  it becomes a visible ``\\n`` or ``\\r`` (a file named ``evil\\nfailed: x.json: all good`` is
  one line, not two), and an invisible format character (bidi overrides such as U+202E,
  zero-width spaces: Unicode category Cf, and the line and paragraph separators) becomes
  ``\\u202e``. The lines the program itself prints still end in real newlines.
- ``printable_output()`` on the streams: C0 and C1 control characters are dropped (escape
  sequences never reach the terminal) and format characters that slipped past ``escape``
  are written as ``\\uXXXX``. In ``--json`` output that is a JSON string escape: the JSON
  stays valid and decodes to the same data.

Cheap to import (stdlib and orjson): ``baton --help`` loads it."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

# C0 and C1 control characters except tab, newline and carriage return (the progress bar).
_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
# Unicode's format characters (category Cf: bidi embeddings, overrides and isolates, zero-width
# spaces and joiners, the BOM, tags), written out because deriving them from unicodedata
# costs a scan of every code point at start-up (a test checks the list against unicodedata),
# and the line and paragraph separators U+2028 and U+2029.
_FORMAT = (
    "\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e\\u200b-\\u200f"
    "\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb\\U000110bd\\U000110cd"
    "\\U00013430-\\U0001343f\\U0001bca0-\\U0001bca3\\U0001d173-\\U0001d17a\\U000e0001"
    "\\U000e0020-\\U000e007f\\u2028\\u2029"
)
_STREAM = re.compile(f"[{_CONTROL}]|[{_FORMAT}]")
_VALUE = re.compile(f"[\\n\\r{_FORMAT}]")


def _escaped(char: str) -> str:
    """``\\n``, ``\\r``, ``\\u202e``: the character named, not acted on. A character beyond
    U+FFFF is written as its two UTF-16 halves (``\\udb40\\udc41``), as JSON writes it, so
    that an escape inside a JSON string keeps the JSON valid."""
    if char in "\n\r":
        return "\\n" if char == "\n" else "\\r"
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _stream_char(match: re.Match[str]) -> str:
    char = match.group()
    return "" if char <= "\x9f" else _escaped(char)


def escape(value: object) -> str:
    """``value`` as text fit for one line of output: its newlines, carriage returns and
    invisible format characters written as escapes (control characters are left to the
    stream, which drops them). Backslashes are left as they are."""
    text = "" if value is None else str(value)
    return _VALUE.sub(lambda match: _escaped(match.group()), text) if _VALUE.search(text) else text


class _Printable:
    """A text stream that drops control characters and escapes format characters: text from
    input files (an agent id, a task, an error) must not move the cursor, retitle the window,
    clear the screen or reorder what is shown (U+202E)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_STREAM.sub(_stream_char, text) if _STREAM.search(text) else text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, buffer (raw bytes), fileno ...
        return getattr(self._stream, name)


@contextmanager
def printable_output() -> Iterator[None]:
    """Within the block, text written to stdout and stderr loses its control characters and
    shows its format characters as escapes."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(sys.stdout), _Printable(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")


def shorten(value: Any, width: int) -> str:
    """One table cell: escaped (``escape``), runs of spaces and tabs made one, cut to ``width``."""
    text = " ".join(escape(value).split())
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
    """``path:line: error``, or ``path: error`` when the line is not known (both escaped)."""
    return escape(path) + (f":{line}" if line else "") + f": {escape(error)}"


def print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"baton: warning: {escape(warning)}", file=sys.stderr)


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

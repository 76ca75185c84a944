"""Plain-text tables and JSON for the terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson


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


def format_money(value: float | None) -> str:
    return "" if value is None else f"${value:,.4f}"


def format_time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")

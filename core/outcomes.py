"""What an ingest pass learns of one file, and what the database remembers of it.

Kept apart from the store so that reading files (in worker processes, too) needs no
database layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from core.records import ParsedFile


@dataclass(slots=True)
class FileOutcome:
    """What happened to one file in an ingest pass."""

    path: str
    outcome: str  # loaded, ignored, failed, deleted
    size: int = 0
    mtime_ns: int = 0
    content_hash: str | None = None
    format: str | None = None
    framework: str | None = None
    error: str | None = None
    error_line: int | None = None
    warnings: list[str] = field(default_factory=list)
    parsed: ParsedFile | None = None
    read_offset: int = 0
    line_count: int = 0
    append: bool = False  # new lines of an append-only file: add, do not replace
    append_from: int = 0  # for an append: the read_offset its new lines were read from


class KnownFile(NamedTuple):
    """What the database remembers of one file (see ``Store.known_files``). A named tuple:
    a re-ingest builds one per file it knows, and a tuple is the cheapest to build."""

    size: int
    mtime_ns: int
    content_hash: str | None
    outcome: str
    read_offset: int = 0  # bytes consumed, for append-only files tailed from an offset
    format: str | None = None
    line_count: int = 0


__all__ = ["FileOutcome", "KnownFile"]

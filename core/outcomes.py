"""What an ingest pass learns of one file, and what the database remembers of it.

Kept apart from the store so that reading files (in worker processes, too) needs no
database layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from core.records import ParsedFile

MAX_BAD_LINES = 100  # the bad lines of a file listed one by one; more are counted
KEPT = "the records it gave before are kept"


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
    # A read that did not parse the whole file (bad lines), or of a log shorter than before:
    # its records are added to the file's earlier ones, which it never replaces.
    keeps: bool = False
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), the first ones
    bad_line_count: int = 0  # all of them, listed or not
    append_from: int = 0  # for an append: the read_offset its new lines were read from
    # A re-read of part of a file (the threads of a LangGraph database that changed): the
    # file's records of these runs (run ids) are replaced by ``parsed``, the rest it gave kept.
    replaces_runs: list[str] | None = None

    def add_bad_lines(self, bad_lines: list[tuple[int, str]]) -> None:
        """Record a read's bad lines (those of JSON Lines content that are not JSON): the
        good ones around them loaded, so the file is loaded, with them listed; and it keeps
        what it gave before (it did not parse completely)."""
        if bad_lines:
            self.bad_lines = list(bad_lines[:MAX_BAD_LINES])
            self.bad_line_count = len(bad_lines)
            self.keeps = True


def bad_lines_note(count: int) -> str:
    """What a loaded file's outcome says of its bad lines (``baton errors`` lists them)."""
    return f"loaded, {count} bad line{'s' if count != 1 else ''} (skipped; the other lines loaded)"


def warning_parts(path: str, warning: str) -> tuple[int | None, str]:
    """A stored warning of the file ``path`` as (line, text): a warning that names its file
    first (``path:line: text`` or ``path: text``) without that name, else (None, warning)."""
    if not warning.startswith(path + ":"):
        return None, warning
    rest = warning[len(path) + 1 :]
    head, found, tail = rest.partition(":")
    if found and head.isdigit():
        return int(head), tail.strip()
    return None, rest.strip()


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


__all__ = ["FileOutcome", "KnownFile", "warning_parts"]

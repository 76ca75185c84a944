"""What a format is: how to recognise it and how to turn it into records.

Its own module so that parsers (which define formats) and the registry (which lists them)
both import it and neither imports the other's list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.outcomes import FileOutcome, KnownFile
from core.records import ParsedFile
from ingest.content import Content


@dataclass(frozen=True, slots=True)
class FormatSpec:
    name: str  # e.g. "acf.checkpoint"
    framework: str  # a name of core.frameworks.NAMES
    description: str
    detect: Callable[[Content], bool]  # cheap: looks at kind, keys and first bytes only
    parse: Callable[[Content], ParsedFile]  # pure: raises ingest.errors.ParseError
    # True when the file only ever grows by whole lines (tail it from a byte offset).
    append_only: bool = False
    # Re-reads what changed of a file loaded before as this format, from the state its last
    # read left (``ParsedFile.read_state``): (path, known, size, mtime_ns) -> an outcome, or
    # None to read the whole file. Called inside the file's consistent SQLite view.
    reread: Callable[[str, KnownFile, int, int], FileOutcome | None] | None = None

"""Errors a user reads: they name the file, the line where known, and what is wrong."""

from __future__ import annotations

from pathlib import Path


class ParseError(Exception):
    """A file of a known format whose content cannot be turned into records."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class SourceChanged(Exception):
    """A source database changed under a read that could not see it change (or kept changing
    while it was copied): read it again when it settles."""

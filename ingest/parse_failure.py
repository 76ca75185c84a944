"""The one way a file that could not be parsed becomes a recorded outcome.

A ``ParseError`` is bad input: its message and line are the user's to read. Any other
exception is a parser bug, which must not stop a pass or the watcher either: it is
recorded like bad input, named as a parser error. A whole read (``ingest.reading``) and
the read of a file's new lines (``ingest.tail``) both record failures here, so the two
read the same.
"""

from __future__ import annotations

from typing import Any

from core.outcomes import FileOutcome
from ingest.errors import ParseError


def parse_failure(exc: Exception, **fields: Any) -> FileOutcome:
    """The failed outcome of a file whose decoding or parsing raised ``exc``; ``fields``
    are the outcome's other fields (path, size, mtime, hash, ...)."""
    if isinstance(exc, ParseError):
        return FileOutcome(outcome="failed", error=exc.message, error_line=exc.line, **fields)
    return FileOutcome(outcome="failed", error=f"parser error: {exc.__class__.__name__}: {exc}", **fields)

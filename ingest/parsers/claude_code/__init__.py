"""Claude Code: its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.claude_code import session
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [session.FORMAT]

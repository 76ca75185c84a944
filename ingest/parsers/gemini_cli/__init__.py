"""Gemini CLI: its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.gemini_cli import chat
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [chat.JSON_FORMAT, chat.JSONL_FORMAT]

"""OpenAI Codex CLI: its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.codex import rollout
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [rollout.FORMAT]

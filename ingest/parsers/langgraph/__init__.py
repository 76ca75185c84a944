"""LangGraph (langgraph-checkpoint-sqlite): its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.langgraph import checkpoints
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [checkpoints.FORMAT]

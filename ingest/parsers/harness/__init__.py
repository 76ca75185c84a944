"""react-agent-harness (harness): its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.harness import agent_checkpoint, budget, orchestrator, sessions, trace
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [
    agent_checkpoint.FORMAT,
    orchestrator.FORMAT,
    trace.FORMAT,
    budget.FORMAT,
    sessions.FORMAT,
]

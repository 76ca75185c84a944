"""The registered formats, in the order they are tried. Add a parser here and nowhere else."""

from __future__ import annotations

from ingest.parsers import (
    acf,
    acf_manifest,
    harness_agent_checkpoint,
    harness_budget,
    harness_orchestrator,
    harness_sessions,
    harness_trace,
    loopengt_checkpoint,
    loopengt_run,
    loopengt_trace,
    loopengt_tracedb,
    techrevati_audit,
    techrevati_events,
    techrevati_pricing,
    techrevati_session,
    techrevati_store,
    techrevati_usage,
    techrevati_worker,
)
from ingest.spec import FormatSpec

REGISTERED: list[FormatSpec] = [
    # agent-checkpoint-framework
    acf.FORMAT,
    acf_manifest.FORMAT,
    # loopengt
    loopengt_run.FORMAT,
    loopengt_checkpoint.FORMAT,
    loopengt_trace.FORMAT,
    loopengt_tracedb.FORMAT,
    # react-agent-harness
    harness_agent_checkpoint.FORMAT,
    harness_orchestrator.FORMAT,
    harness_trace.FORMAT,
    harness_budget.FORMAT,
    harness_sessions.FORMAT,
    # techrevati-runtime
    techrevati_events.FORMAT,
    techrevati_audit.FORMAT,
    techrevati_session.FORMAT,
    techrevati_worker.FORMAT,
    techrevati_usage.FORMAT,
    techrevati_pricing.FORMAT,
    techrevati_store.FORMAT,
]

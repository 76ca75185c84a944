"""A run row's columns and its plain-dict form (the run object of ``baton runs --json``).

Below both ``core.queries`` and ``core.failures``: each reads runs with these columns, and
neither has to import the other for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.run_names import run_name, short_id

RUN_FIELDS = (
    "id",
    "framework",
    "native_id",
    "status",
    "task",
    "agents",
    "started_at",
    "ended_at",
    "checkpoint_count",
    "event_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reported_cost_usd",
    "failure_reason",
    "failure_signals",
    "attributes",
    "inferred",
)


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 text; anything else unchanged."""
    return value.isoformat() if isinstance(value, datetime) else value


def run_to_dict(run: Any) -> dict[str, Any]:
    """The run object of ``baton runs --json``, from a row of ``RUN_FIELDS`` (with its short
    human ``name`` and ``short_id``, see ``core.run_names``)."""
    found = {
        "id": run.id,
        "framework": run.framework,
        "native_id": run.native_id,
        "status": run.status,
        "task": run.task,
        "agents": run.agents or [],
        "started_at": iso(run.started_at),
        "ended_at": iso(run.ended_at),
        "checkpoints": run.checkpoint_count,
        "events": run.event_count,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "cache_read_tokens": run.cache_read_tokens,
        "cache_write_tokens": run.cache_write_tokens,
        "cost_usd": run.reported_cost_usd,
        "failure_reason": run.failure_reason,
        "failure_signals": run.failure_signals or {},
        "attributes": run.attributes or {},
        "inferred": run.inferred or [],
    }
    found["name"] = run_name(found)
    found["short_id"] = short_id(found["id"])
    return found

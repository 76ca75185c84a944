"""Read the checkpoint an export starts from, with its run and its failure class (and, for a
framework whose module asks, the run's events up to the checkpoint)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import queries
from core.failures import failed_runs
from core.frameworks.registry import lookup
from core.resume.source import ResumeSource
from core.tables import Event
from core.timeutil import parse_timestamp

EVENT_LIMIT = 2000  # the newest events up to the checkpoint; the document is trimmed after
EVENT_COLUMNS = ("native_id", "parent_native_id", "kind", "name", "at", "agent_id", "tool", "model", "error")


def load_source(engine: Engine, checkpoint_ref: str) -> ResumeSource:
    """``checkpoint_ref``: an id as ``baton show`` prints it, a native id, or a prefix."""
    checkpoint_id = queries.resolve_checkpoint_id(engine, checkpoint_ref)
    checkpoint = queries.get_checkpoint(engine, checkpoint_id)
    run = queries.get_run(engine, checkpoint["run_id"])
    # The same class `baton failures` shows: the analysis sees the run's events and failing
    # checkpoint, which a checkpoint exported from before the failure does not carry.
    (info,) = failed_runs(engine, [run["id"]]) or (None,)
    if info is not None:
        run["failure_class"] = info.failure_class
    source = ResumeSource(run=run, checkpoint=checkpoint)
    if getattr(lookup(source.framework), "RESUME_READS_EVENTS", False):
        source.events = run_events(engine, run["id"], parse_timestamp(checkpoint.get("created_at")))
    return source


def run_events(engine: Engine, run_id: str, until: datetime | None) -> list[dict[str, Any]]:
    """The run's events that started by ``until`` (all without it), oldest first."""
    columns = [getattr(Event, name) for name in EVENT_COLUMNS] + [Event.data]
    query = select(*columns).where(Event.run_id == run_id)
    if until is not None:
        query = query.where((Event.at <= until) | Event.at.is_(None))
    query = query.order_by(Event.at.desc(), Event.seq.desc()).limit(EVENT_LIMIT)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
    rows.reverse()
    for row in rows:
        if isinstance(row["at"], datetime):
            row["at"] = row["at"].isoformat()
    return rows

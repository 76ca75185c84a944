"""Read the checkpoint an export starts from, with its run and its failure class (and, when
the format or the framework asks, the run's events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from core import queries
from core.failures import failed_runs
from core.frameworks.registry import lookup
from core.resume.source import ResumeSource
from core.run_dicts import iso
from core.tables import Event
from core.timeutil import parse_timestamp

# What an event row holds for a resume: the handoff brief reads the first columns, the OTel
# mapper the span ids and the model too; both get the same shape.
EVENT_COLUMNS = (
    "id",
    "seq",
    "native_id",
    "parent_native_id",
    "kind",
    "name",
    "at",
    "agent_id",
    "step",
    "tool",
    "model",
    "error",
)
TAIL_PAYLOADS = 50  # the last events' payloads are read too: they say where the run was (cwd)
EVENT_LIMIT = 2000  # the newest spans up to the checkpoint; the document is trimmed after


def load_source(engine: Engine, checkpoint_ref: str, with_events: bool = False) -> ResumeSource:
    """``checkpoint_ref``: an id as ``baton show`` prints it, a native id, or a prefix.
    ``with_events`` also reads the run's events (``load_events``); a framework whose module
    sets ``RESUME_READS_EVENTS`` always gets its events up to the checkpoint (``run_events``)."""
    checkpoint_id = queries.resolve_checkpoint_id(engine, checkpoint_ref)
    checkpoint = queries.get_checkpoint(engine, checkpoint_id)
    run = queries.get_run(engine, checkpoint["run_id"])
    (info,) = failed_runs(engine, [run["id"]]) or (None,)
    if info is not None:
        run["failure_class"] = info.failure_class
        run["failure_info"] = info.to_dict()
    source = ResumeSource(run=run, checkpoint=checkpoint)
    if getattr(lookup(source.framework), "RESUME_READS_EVENTS", False):
        source.events = run_events(engine, run["id"], parse_timestamp(checkpoint.get("created_at")))
    elif with_events:
        source.events = load_events(engine, run["id"])
    return source


def load_events(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The run's events in time order (as the timeline orders them), with the payloads of
    tool calls, errors and the last few events; the others' payloads are ``None`` (a long
    session's raw lines are not read for a summary)."""
    columns = [getattr(Event, name) for name in EVENT_COLUMNS]
    order = (Event.at.asc().nulls_last(), Event.seq, Event.id)
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).where(Event.run_id == run_id).order_by(*order)).all()
        wanted = select(Event.id, Event.data).where(
            Event.run_id == run_id,
            or_(Event.kind.in_(("tool_call", "error")), Event.tool.is_not(None), Event.error.is_not(None)),
        )
        payloads = dict(connection.execute(wanted).all())
        tail = [row.id for row in rows[-TAIL_PAYLOADS:] if row.id not in payloads]
        if tail:
            payloads.update(connection.execute(select(Event.id, Event.data).where(Event.id.in_(tail))).all())
    return [
        {name: iso(getattr(row, name)) for name in EVENT_COLUMNS} | {"data": payloads.get(row.id)}
        for row in rows
    ]


def run_events(engine: Engine, run_id: str, until: datetime | None) -> list[dict[str, Any]]:
    """The run's events that started by ``until`` (all without it), oldest first, with payloads."""
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

"""Read the checkpoint an export starts from, with its run and its failure class."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from core import queries
from core.failures import failed_runs
from core.resume.source import ResumeSource
from core.run_dicts import iso
from core.tables import Event

EVENT_COLUMNS = ("id", "seq", "kind", "name", "at", "agent_id", "step", "tool", "error")
TAIL_PAYLOADS = 50  # the last events' payloads are read too: they say where the run was (cwd)


def load_source(engine: Engine, checkpoint_ref: str, with_events: bool = False) -> ResumeSource:
    """``checkpoint_ref``: an id as ``baton show`` prints it, a native id, or a prefix.
    ``with_events`` also reads the run's events (``load_events``)."""
    checkpoint_id = queries.resolve_checkpoint_id(engine, checkpoint_ref)
    checkpoint = queries.get_checkpoint(engine, checkpoint_id)
    run = queries.get_run(engine, checkpoint["run_id"])
    # The same class `baton failures` shows: the analysis sees the run's events and failing
    # checkpoint, which a checkpoint exported from before the failure does not carry.
    (info,) = failed_runs(engine, [run["id"]]) or (None,)
    if info is not None:
        run["failure_class"] = info.failure_class
        run["failure_info"] = info.to_dict()
    events = load_events(engine, run["id"]) if with_events else None
    return ResumeSource(run=run, checkpoint=checkpoint, events=events)


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

"""A run's derived fields: merged fragments plus checkpoint and event totals.

One function for both ways a run is computed: from rows read back from the database (a
run that already existed: ``refresh_runs``) and from a write batch's own rows (a run first
seen in it, which needs no read-back: the cold-ingest fast path, ``runs_as_if_new``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from core.record_values import INT_MAX, INT_MIN
from core.store.bulk import update_by_id
from core.store.chains import chain_parent_changes
from core.store.lookups import chunks
from core.store.rows import BatchRows
from core.store.runmerge import merge_fragments
from core.tables import Checkpoint, Event, Run, RunFragment, SourceFile
from core.timeutil import parse_timestamp

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")


@dataclass(slots=True)
class EventTotals:
    """What a run's events add up to (sums are None when no event reported the field)."""

    count: int
    sums: tuple[Any, ...]  # in TOKEN_FIELDS order
    first_at: datetime | None
    last_at: datetime | None


def storable_total(total: Any) -> Any:
    """A sum of events' values as a column can hold it: None for a sum beyond a 64-bit
    integer (each value fits; their sum need not) or an infinite float sum (the file's
    warning says so: ``core.record_values``), an exact SQL sum (PostgreSQL's numeric) as int."""
    if total is None or isinstance(total, float):
        return total if total is None or total - total == 0.0 else None
    if isinstance(total, Decimal):
        total = int(total)
    return total if INT_MIN <= total <= INT_MAX else None


def totals_of(events: Sequence[dict[str, Any]]) -> EventTotals:
    """The totals of event rows held in memory (the same figures as SQL SUM/MIN/MAX)."""
    sums: list[Any] = []
    for name in TOKEN_FIELDS:
        values = [event[name] for event in events if event[name] is not None]
        sums.append(storable_total(sum(values)) if values else None)
    times = [event["at"] for event in events if event["at"] is not None]
    return EventTotals(len(events), tuple(sums), min(times, default=None), max(times, default=None))


def run_fields(
    fragments: list[dict[str, Any]], checkpoint_count: int, totals: EventTotals | None
) -> dict[str, Any]:
    """The run table's derived columns but ``updated_at`` (the writer stamps it under the
    write lock). ``fragments`` are RunRecord dicts with datetimes."""
    merged = merge_fragments(fragments)
    if totals is not None:
        for name, total in zip(TOKEN_FIELDS, totals.sums, strict=True):
            if merged[name] is None and total is not None:
                merged[name] = total
        starts = [t for t in (merged["started_at"], parse_timestamp(totals.first_at)) if t]
        ends = [t for t in (merged["ended_at"], parse_timestamp(totals.last_at)) if t]
        merged["started_at"] = min(starts) if starts else None
        merged["ended_at"] = max(ends) if ends else None
    merged["reported_cost_usd"] = merged.pop("cost_usd")
    merged.update(
        checkpoint_count=checkpoint_count,
        event_count=totals.count if totals else 0,
    )
    return merged


def runs_as_if_new(rows: BatchRows) -> dict[str, dict[str, Any]]:
    """Every run of the batch computed from the batch's rows alone, chains linked: exactly
    right for runs the database does not hold yet (the others are recomputed from it)."""
    chained = (
        cp for cp in rows.checkpoints if cp["chain_key"] is not None and cp["parent_native_id"] is None
    )
    for checkpoint, parent in chain_parent_changes(chained):
        checkpoint["parent_id"] = parent
    checkpoint_counts: dict[str, int] = {}
    for cp in rows.checkpoints:
        checkpoint_counts[cp["run_id"]] = checkpoint_counts.get(cp["run_id"], 0) + 1
    run_events: dict[str, list[dict[str, Any]]] = {}
    for event in rows.events:
        run_events.setdefault(event["run_id"], []).append(event)
    run_fragments: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for fragment in rows.fragments:  # ``source_file_id`` still holds the file's path here
        run_fragments.setdefault(fragment["run_id"], []).append(
            (fragment["source_file_id"], fragment["data"])
        )
    runs = {}
    for run, identity in rows.runs.items():
        events = run_events.get(run)
        fragments = run_fragments.get(run, [])
        if len(fragments) > 1:
            fragments.sort(key=lambda fragment: fragment[0])  # ties in the merge: by path, as below
        fields = run_fields(
            [data for _path, data in fragments],
            checkpoint_counts.get(run, 0),
            totals_of(events) if events else None,
        )
        runs[run] = identity | fields
    return runs


def refresh_runs(connection: Connection, run_ids: set[str], stamp: datetime) -> None:
    """Recompute runs the database held before from what it holds now (a run nothing holds
    any more goes), stamped ``updated_at=stamp``, and relink their chains."""
    for part in chunks(sorted(run_ids)):
        _refresh_run_chunk(connection, list(part), stamp)


def _refresh_run_chunk(connection: Connection, run_ids: list[str], stamp: datetime) -> None:
    # Sorted by the files' paths (in Python: the database's collation may differ), as in
    # ``runs_as_if_new``: fragments the merge ranks alike (copies of one run in two files)
    # then give the same run however the files arrived, from one machine or several.
    held: dict[str, list[tuple[str, dict[str, Any]]]] = {run: [] for run in run_ids}
    query = (
        select(RunFragment.run_id, SourceFile.path, RunFragment.data)
        .join(SourceFile, SourceFile.id == RunFragment.source_file_id)
        .where(RunFragment.run_id.in_(run_ids))
    )
    for run, path, data in connection.execute(query):
        for key in ("as_of", "started_at", "ended_at"):
            data[key] = parse_timestamp(data.get(key))
        held[run].append((path, data))
    fragments = {
        run: [data for _path, data in sorted(found, key=lambda f: f[0])] for run, found in held.items()
    }
    checkpoint_counts = dict(
        connection.execute(
            select(Checkpoint.run_id, func.count())
            .where(Checkpoint.run_id.in_(run_ids))
            .group_by(Checkpoint.run_id)
        ).all()
    )
    event_totals = _event_totals(connection, run_ids)
    updates, orphans = [], []
    for run in run_ids:
        n_checkpoints = checkpoint_counts.get(run, 0)
        totals = event_totals.get(run)
        if not fragments[run] and not n_checkpoints and not totals:
            orphans.append(run)
            continue
        updates.append(run_fields(fragments[run], n_checkpoints, totals) | {"updated_at": stamp, "b_id": run})
    update_by_id(connection, Run.__table__, updates)
    if orphans:
        connection.execute(delete(Run).where(Run.id.in_(orphans)))
    _link_chains(connection, run_ids)


def _event_totals(connection: Connection, run_ids: list[str]) -> dict[str, EventTotals]:
    """Each run's event totals, by SQL; where SQLite's SUM overflows 64 bits (it fails the
    statement), summed exactly here instead, and nulled (``storable_total``)."""
    sums = select(
        Event.run_id,
        func.count(),
        func.sum(Event.input_tokens),
        func.sum(Event.output_tokens),
        func.sum(Event.cache_read_tokens),
        func.sum(Event.cache_write_tokens),
        func.sum(Event.cost_usd),
        func.min(Event.at),
        func.max(Event.at),
    )
    try:
        rows = connection.execute(sums.where(Event.run_id.in_(run_ids)).group_by(Event.run_id)).all()
    except OperationalError as exc:
        if "integer overflow" not in str(exc):
            raise
        columns = [getattr(Event, name) for name in TOKEN_FIELDS]
        held: dict[str, list[dict[str, Any]]] = {}
        for row in connection.execute(
            select(Event.run_id, Event.at, *columns).where(Event.run_id.in_(run_ids))
        ).mappings():
            held.setdefault(row["run_id"], []).append(dict(row))
        return {run: totals_of(events) for run, events in held.items()}
    return {row[0]: EventTotals(row[1], tuple(map(storable_total, row[2:7])), row[7], row[8]) for row in rows}


def _link_chains(connection: Connection, run_ids: list[str]) -> None:
    """Chain checkpoints that share a chain key and name no parent, by creation time."""
    query = select(
        Checkpoint.id,
        Checkpoint.run_id,
        Checkpoint.chain_key,
        Checkpoint.created_at,
        Checkpoint.native_id,
        Checkpoint.parent_id,
    ).where(
        Checkpoint.run_id.in_(run_ids),
        Checkpoint.chain_key.is_not(None),
        Checkpoint.parent_native_id.is_(None),
    )
    changes = [
        {"b_id": row["id"], "parent_id": parent}
        for row, parent in chain_parent_changes(connection.execute(query).mappings())
    ]
    update_by_id(connection, Checkpoint.__table__, changes)

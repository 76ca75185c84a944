"""Which files hold which checkpoint or event (``checkpoint_source``, ``event_source``).

A checkpoint may be held by two files (a document saved on its own and in a JSONL log), an
event too (a trace and a copy of it, or loopengt's two trace stores). Its row is stored
once, as one file's; the holders tables record only the other files that hold it. It stays
while any file holds it: when the file it is stored as lets go, it passes to another holder.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, bindparam, delete, func, select
from sqlalchemy.engine import Connection

from core.store.bulk import Prepared, bulk_insert, insert_prepared, update_by_id, update_prepared
from core.store.lookups import chunks, where_in
from core.store.rows import EVENT_DETAILS, stated_details
from core.tables import Checkpoint, CheckpointSource, Event, EventSource


def release_checkpoints(connection: Connection, file_ids: list[int], runs: list[str] | None = None) -> None:
    """The files stop holding their checkpoints (of ``runs`` only, when given). A checkpoint
    another file still holds stays, stored as that file's; the others go (versioned ones
    keep their history)."""
    links = CheckpointSource.__table__
    unlink = delete(links).where(links.c.source_file_id.in_(file_ids))
    query = select(Checkpoint.id).where(
        Checkpoint.source_file_id.in_(file_ids), Checkpoint.versioned.is_(False)
    )
    if runs is not None:
        of_runs = select(Checkpoint.id).where(Checkpoint.run_id.in_(runs))
        unlink = unlink.where(links.c.checkpoint_id.in_(of_runs))
        query = query.where(Checkpoint.run_id.in_(runs))
    connection.execute(unlink)
    stored = connection.execute(query).scalars().all()
    for part in chunks(stored):
        holders = dict(
            connection.execute(
                select(links.c.checkpoint_id, func.min(links.c.source_file_id))
                .where(links.c.checkpoint_id.in_(part))
                .group_by(links.c.checkpoint_id)
            ).all()
        )
        update_by_id(
            connection,
            Checkpoint.__table__,
            [{"b_id": key, "source_file_id": holder} for key, holder in holders.items()],
        )
        # The file whose copy is stored now is no extra holder.
        _unlink(connection, links.c.checkpoint_id, holders.items())
        orphans = [key for key in part if key not in holders]
        if orphans:
            connection.execute(delete(Checkpoint).where(Checkpoint.id.in_(orphans)))


def release_events(connection: Connection, file_ids: list[int], runs: list[str] | None = None) -> None:
    """The files stop holding their events (of ``runs`` only, when given). An event stored
    as one of theirs that another file also holds passes to that file (and is kept); the
    rest go with the caller's delete."""
    links = EventSource.__table__
    unlink = delete(links).where(links.c.source_file_id.in_(file_ids))
    query = (
        select(links.c.event_id, func.min(links.c.source_file_id))
        .join(Event.__table__, Event.id == links.c.event_id)
        .where(Event.source_file_id.in_(file_ids))
    )
    if runs is not None:
        unlink = unlink.where(links.c.event_id.in_(select(Event.id).where(Event.run_id.in_(runs))))
        query = query.where(Event.run_id.in_(runs))
    connection.execute(unlink)
    holders = connection.execute(query.group_by(links.c.event_id)).all()
    if not holders:
        return
    update_by_id(
        connection,
        Event.__table__,
        [{"b_id": event, "source_file_id": holder} for event, holder in holders],
    )
    _unlink(connection, links.c.event_id, holders)


def insert_checkpoints(
    connection: Connection,
    checkpoints: Prepared,
    checkpoint_holders: list[tuple[str, Any]],
    file_ids: dict[str, int],
    new_runs: set[str],
) -> None:
    """Store the batch's checkpoints (this batch's copy replaces one stored before: the
    last file to write a checkpoint holds the stored copy) and record in
    ``checkpoint_source`` every other file that holds one. Only checkpoints of runs the
    database held before can have been stored by another file: they alone are looked up."""
    if not checkpoints.values:
        return
    columns = checkpoints.columns
    at_id, at_run, at_file = (columns.index(name) for name in ("id", "run_id", "source_file_id"))

    def fields(row: Any) -> tuple[str, str, int]:  # value lists on SQLite, dicts elsewhere
        if checkpoints.sqlite:
            return row[at_id], row[at_run], row[at_file]
        return row["id"], row["run_id"], row["source_file_id"]

    ours: dict[str, int] = {}
    maybe_stored: list[str] = []
    for row in checkpoints.values:
        key, run, file_id = fields(row)
        ours[key] = file_id
        if run not in new_runs:
            maybe_stored.append(key)
    earlier: dict[str, int] = {}
    for condition in where_in(connection.dialect, Checkpoint.id, maybe_stored):
        earlier.update(
            connection.execute(select(Checkpoint.id, Checkpoint.source_file_id).where(condition)).all()
        )
    insert_prepared(connection, checkpoints, conflict="update")
    holders = [(key, file_ids[path]) for key, path in checkpoint_holders]
    replaced = [(key, file_id) for key, file_id in earlier.items() if file_id != ours[key]]
    extra = [(key, file_id) for key, file_id in holders if file_id != ours[key]] + replaced
    links = CheckpointSource.__table__
    bulk_insert(
        connection,
        links,
        [{"checkpoint_id": key, "source_file_id": file_id} for key, file_id in dict.fromkeys(extra)],
        conflict="nothing",
        key=None,
    )
    # The file now stored may have held the checkpoint as an extra holder.
    _unlink(connection, links.c.checkpoint_id, [(key, ours[key]) for key, _ in replaced])


def insert_events(
    connection: Connection,
    events: Prepared,
    event_holders: list[tuple[str, Any]],
    file_ids: dict[str, int],
) -> None:
    """Store the batch's events (a copy stored before stays unless this batch's states more)
    and record in ``event_source`` every other file that holds one."""
    written = insert_prepared(connection, events, conflict="nothing")
    holders = [(event, file_ids[path]) for event, path in event_holders]
    if not holders:
        return
    if written == len(events.values):
        # Every row was new: each event's stored copy is this batch's (one per event), so
        # only an event the batch read in several files has holders to record, and nothing
        # needs looking up (on a cold ingest that lookup was a fifth of the writing).
        _link_batch_holders(connection, events, holders)
    else:
        # Some event was stored before, maybe as another file's. The stored copy is the one
        # that states the most details (a copy stored before is replaced only by a fuller
        # one); the files whose copy is not stored are recorded as holders.
        stored = _stored_events(connection, list({event: None for event, _ in holders}))
        previous = _store_fuller_copies(connection, events, stored)
        extra = [(e, f) for e, f in holders if stored[e][0] != f] + list(previous.items())
        _record_holders(connection, extra)


def _link_batch_holders(connection: Connection, events: Prepared, holders: list[tuple[str, int]]) -> None:
    """Record the other holders of events this batch stored new (none was stored before)."""
    files_of: dict[str, set[int]] = {}
    for event, file_id in holders:
        files_of.setdefault(event, set()).add(file_id)
    shared = {event for event, files in files_of.items() if len(files) > 1}
    if not shared:
        return
    at_id, at_file = events.columns.index("id"), events.columns.index("source_file_id")
    stored: dict[str, int] = {}
    for row in events.values:  # value lists on SQLite, dicts elsewhere
        key, file_id = (row[at_id], row[at_file]) if events.sqlite else (row["id"], row["source_file_id"])
        if key in shared:
            stored[key] = file_id
    _record_holders(connection, [(e, f) for e, f in holders if e in shared and stored[e] != f])


def _record_holders(connection: Connection, extra: list[tuple[str, int]]) -> None:
    """``event_source`` rows: files that hold an event whose stored copy is another's."""
    bulk_insert(
        connection,
        EventSource.__table__,
        [{"event_id": e, "source_file_id": f} for e, f in dict.fromkeys(extra)],
        conflict="nothing",
        key=None,
    )


def _store_fuller_copies(
    connection: Connection, events: Prepared, stored: dict[str, tuple[int, tuple[int, int]]]
) -> dict[str, int]:
    """Where this batch's copy of a stored event states more details than the stored
    copy, store this batch's copy instead (and its file as the event's). ``stored`` maps
    event id to (file, details) and is updated; returns event id -> the file it was."""
    at = {name: events.columns.index(name) for name in ("id", "source_file_id", *EVENT_DETAILS)}
    fuller, previous = [], {}
    for row in events.values:  # value lists on SQLite, dicts elsewhere
        values = {name: row[index] for name, index in at.items()} if events.sqlite else row
        key, file_id = values["id"], values["source_file_id"]
        if key not in stored:
            continue
        details = stated_details(values)
        if details > stored[key][1]:  # the same file's too: new lines of a log may complete it
            if stored[key][0] != file_id:
                previous[key] = stored[key][0]
            stored[key] = (file_id, details)
            fuller.append(row)
    update_prepared(connection, Prepared(events.table, events.columns, fuller, events.sqlite))
    return previous


def _stored_events(connection: Connection, event_ids: list[str]) -> dict[str, tuple[int, tuple[int, int]]]:
    """For each of ``event_ids`` already stored: the file whose copy is stored, and how many
    of EVENT_DETAILS that copy states."""
    columns = [Event.__table__.c[name] for name in EVENT_DETAILS]
    stored: dict[str, tuple[int, tuple[int, int]]] = {}
    for condition in where_in(connection.dialect, Event.id, event_ids):
        for row in connection.execute(select(Event.id, Event.source_file_id, *columns).where(condition)):
            stored[row.id] = (row.source_file_id, stated_details(row._mapping))
    return stored


def _unlink(connection: Connection, record: Column[Any], pairs: Iterable[tuple[str, int]]) -> None:
    """Delete the (record id, file id) rows of a holders table: ``record`` is its column of
    record ids (``checkpoint_source.checkpoint_id``, ``event_source.event_id``)."""
    rows = [{"b_id": key, "holder": holder} for key, holder in pairs]
    if rows:
        links = record.table
        connection.execute(
            delete(links).where(record == bindparam("b_id"), links.c.source_file_id == bindparam("holder")),
            rows,
        )

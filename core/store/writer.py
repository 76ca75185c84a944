"""Records to rows: bulk, idempotent, many files per transaction.

The loader hands over a batch of file outcomes; ``write_batch`` applies it in one
transaction so a reader never sees half a file. A file that loads again replaces exactly
what it contributed before (except versioned checkpoints, which keep their history); a
file that fails keeps what it loaded earlier; a deleted file keeps its records and is
marked ``deleted`` (the runs it described still happened), except a run status it only
inferred from being on disk. A checkpoint or an event stays while any file holds it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Column, String, and_, bindparam, delete, func, literal, select
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql.elements import ColumnElement

from core import ids
from core.outcomes import FileOutcome, KnownFile
from core.store.bulk import Prepared, bulk_insert, insert_prepared, prepare, update_by_id, update_prepared
from core.store.chains import chain_parent_changes
from core.store.runfields import EventTotals, run_fields, totals_of
from core.store.wal import WalCheckpointer
from core.tables import (
    AgentManifest,
    Checkpoint,
    CheckpointSource,
    Event,
    EventSource,
    Price,
    Run,
    RunFragment,
    SourceFile,
)
from core.timeutil import parse_timestamp, utcnow

CHUNK = 500
JSON_EACH_FROM = 50  # values; below, an IN list (json_each's statement costs ~0.1 ms more to build)
WRITE_LOCK_KEY = 72617  # PostgreSQL advisory lock that Baton's writers take turns at
OWNED_TABLES = (RunFragment, Event, Price, AgentManifest)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _where_in(dialect: Dialect, column: Any, values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """``column IN values`` as conditions to run a statement each: chunks of CHUNK values, or
    on SQLite a single one that reads the values as one JSON array (``json_each``). There,
    SQLAlchemy's expanding IN lists, rendered for every statement, cost twice the lookups.
    For a few values (a watcher's single file) the plain list is quicker to build."""
    if not values:
        return
    if dialect.name == "sqlite" and len(values) > JSON_EACH_FROM:
        array = func.json_each(literal(orjson.dumps(list(values)).decode(), String)).table_valued("value")
        yield column.in_(select(array.c.value))
        return
    for part in chunks(values):
        yield column.in_(part)


def _sqlite_rows_in(connection: Connection, query: str, values: Sequence[Any]) -> list[Any]:
    """The rows of ``query`` (ending in the column to match) for a value among ``values``, in
    the driver's own statement: building SQLAlchemy's select cost as much as the lookup, and
    a batch makes its lookups under the write lock."""
    sql = f"{query} IN (SELECT value FROM json_each(?))"
    return connection.exec_driver_sql(sql, (orjson.dumps(list(values)).decode(),)).all()


def _below(connection: Connection, prefix: str) -> ColumnElement[bool]:
    """Paths starting with ``prefix`` (a folder ending in "/"). LIKE reads every row: right
    when the folder holds much of the database. For a small part of it on SQLite, a range
    its path index answers (SQLite compares text bytewise; "0" is the character after "/").
    Elsewhere LIKE always: a range would depend on the collation."""
    like = SourceFile.path.startswith(prefix, autoescape=True)
    if connection.dialect.name != "sqlite" or not prefix.endswith("/"):
        return like
    in_range = and_(SourceFile.path >= prefix, SourceFile.path < prefix[:-1] + "0")
    below = connection.execute(select(func.count()).where(in_range)).scalar_one()  # from the index
    rows = connection.execute(select(func.max(SourceFile.id))).scalar() or 0  # about the table's size
    return in_range if below * 4 < rows else like


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


def _shallow(record: Any) -> dict[str, Any]:
    """A record's fields as a dict. Not ``dataclasses.asdict``: its deep copy was the top
    cost of a cold ingest, and rows are serialized right away anyway."""
    return {name: getattr(record, name) for name in record.__slots__}


def _stated(record: Any) -> dict[str, Any]:
    """The fields a record states: no None and no empty list or dict. A run fragment is
    stored this way (readers take a missing key as None); it halves the fragment's JSON."""
    stated = {}
    for name in record.__slots__:
        value = getattr(record, name)
        if value is not None and value != [] and value != {}:
            stated[name] = value
    return stated


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._passes = 0
        self._passes_lock = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None

    @contextmanager
    def background_checkpoints(self) -> Iterator[None]:
        """While this is entered (by one or several passes at once), a SQLite file's log
        is checkpointed by a thread of its own, not inside this store's commits
        (``core.store.wal``). Does nothing for other databases."""
        if self.database_path is None:
            yield
            return
        with self._passes_lock:
            self._passes += 1
            if self._checkpointer is None:
                self._checkpointer = WalCheckpointer(self.database_path)
                self._checkpointer.start()
        try:
            yield
        finally:
            with self._passes_lock:
                self._passes -= 1
                ending = self._checkpointer if self._passes == 0 else None
                if ending is not None:
                    self._checkpointer = None
            if ending is not None:
                ending.stop()

    @property
    def database_path(self) -> str | None:
        """The SQLite file behind this store (never ingested as an input), else None."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return os.path.realpath(database)

    def known_files(
        self, paths: Iterable[str] | None = None, under: str | None = None
    ) -> dict[str, KnownFile]:
        """What was recorded of every file seen (or only of ``paths``, or of the files below
        the folder ``under``): path -> KnownFile."""
        columns = (
            SourceFile.path,
            SourceFile.size,
            SourceFile.mtime_ns,
            SourceFile.content_hash,
            SourceFile.outcome,
            SourceFile.read_offset,
            SourceFile.format,
            SourceFile.line_count,
        )
        with self.engine.connect() as connection:
            if paths is None:
                query = select(*columns)
                if under is not None:
                    query = query.where(_below(connection, under.rstrip("/") + "/"))
                make = KnownFile._make
                return {row[0]: make(row[1:]) for row in connection.execute(query).all()}
            known: dict[str, KnownFile] = {}
            for condition in _where_in(connection.dialect, SourceFile.path, list(paths)):
                for row in connection.execute(select(*columns).where(condition)).all():
                    known[row[0]] = KnownFile._make(row[1:])
            return known

    def write_batch(self, outcomes: Sequence[FileOutcome]) -> set[str]:
        """Apply a batch in one transaction; return the ids of the runs it touched.

        Runs first seen in the batch are computed from the batch's own rows and inserted
        whole; only runs that existed before are recomputed from what the database holds."""
        if not outcomes:
            return set()
        loaded = [o for o in outcomes if o.outcome == "loaded" and o.parsed is not None]
        # Everything that needs no lock is done before the write transaction starts: with
        # several ingest processes, the database is the part they take turns at.
        rows = _batch_rows(loaded, self._append_bases([o.path for o in loaded if o.append]))
        dialect = self.engine.dialect
        as_if_new = _runs_as_if_new(rows)
        candidate_runs = prepare(dialect, Run.__table__, [as_if_new[run] for run in sorted(as_if_new)])
        prepared = rows.prepare(dialect)
        file_rows = _file_rows(outcomes)
        files = prepare(dialect, SourceFile.__table__, file_rows)
        checkpointer = self._checkpointer
        with self.engine.begin() as connection:
            self._begin_writing(connection, checkpointer)
            paths = [o.path for o in outcomes]
            existing = self._file_ids(connection, paths)
            # Stamped under the lock: max(seen_at) must grow with every commit (the
            # dashboard's data version), even one that waited for another writer's.
            now = utcnow()
            files.add_column(dialect, "seen_at", [now] * len(file_rows))
            files.add_column(
                dialect, "loaded_at", [now if row["outcome"] == "loaded" else None for row in file_rows]
            )
            file_ids = existing | self._write_files(connection, files, existing)
            # Only files loaded before can own records to replace; new files skip the deletes.
            replaced = [existing[o.path] for o in loaded if not o.append and o.path in existing]
            touched = self._delete_owned(connection, replaced)
            gone = [file_ids[o.path] for o in outcomes if o.outcome == "deleted" and o.path in file_ids]
            touched |= self._drop_inferred_status(connection, gone)
            new_runs = set(rows.runs) - touched - self._existing_runs(connection, list(rows.runs))
            insert_prepared(connection, candidate_runs.only("id", new_runs))
            prepared.insert(connection, file_ids, new_runs)
            touched |= set(rows.runs)
            # Runs that existed are recomputed from the database (chains relinked with it).
            self._refresh_runs(connection, touched - new_runs)
        if checkpointer is not None:
            checkpointer.nudge()
        return touched

    @staticmethod
    def _begin_writing(connection: Connection, checkpointer: WalCheckpointer | None) -> None:
        """Take the write lock before the batch reads anything: the file ids it reads first
        must still hold when it writes (two processes loading one file at once would both
        take it for new and store its records twice)."""
        dialect = connection.dialect.name
        if dialect == "sqlite":
            # Off while a thread checkpoints for us (unless it fell behind); else SQLite's
            # default, 1,000 pages.
            deferred = checkpointer is not None and not checkpointer.behind()
            connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={0 if deferred else 1000}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    def _write_files(
        self, connection: Connection, files: Prepared, existing: dict[str, int]
    ) -> dict[str, int]:
        """Insert or update the batch's ``source_file`` rows; return the new files' ids.

        On SQLite the new files are given their ids here, the next ones after the largest
        (as SQLite itself would: the write lock is held), so no lookup follows the insert."""
        keep = ("format", "framework", "loaded_at")  # a failed or deleted file keeps its last good load
        if not files.sqlite:
            insert_prepared(connection, files, conflict="update", key="path", keep_when_null=keep)
            return self._file_ids(
                connection, [row["path"] for row in files.values if row["path"] not in existing]
            )
        index = files.columns.index("path")
        known = [row for row in files.values if row[index] in existing]
        new = [row for row in files.values if row[index] not in existing]
        largest = connection.exec_driver_sql("SELECT max(id) FROM source_file").scalar() or 0
        ids = {row[index]: largest + number for number, row in enumerate(new, start=1)}
        for row in new:
            row.append(ids[row[index]])
        insert_prepared(connection, Prepared(files.table, [*files.columns, "id"], new, sqlite=True))
        insert_prepared(
            connection,
            Prepared(files.table, files.columns, known, sqlite=True),
            conflict="update",
            key="path",
            keep_when_null=keep,
        )
        return ids

    def _append_bases(self, paths: list[str]) -> dict[str, int]:
        """For files read from an offset: the seq their new events number on from (read
        before the write transaction; one ingester tails a given file at a time)."""
        if not paths:
            return {}
        with self.engine.connect() as connection:
            return {
                path: self._next_seq(connection, file_id)
                for path, file_id in self._file_ids(connection, paths).items()
            }

    # -- files ---------------------------------------------------------------------------
    @staticmethod
    def _file_ids(connection: Connection, paths: list[str]) -> dict[str, int]:
        if connection.dialect.name == "sqlite" and len(paths) > JSON_EACH_FROM:
            return dict(_sqlite_rows_in(connection, "SELECT path, id FROM source_file WHERE path", paths))
        file_ids: dict[str, int] = {}
        for condition in _where_in(connection.dialect, SourceFile.path, paths):
            file_ids.update(connection.execute(select(SourceFile.path, SourceFile.id).where(condition)).all())
        return file_ids

    @staticmethod
    def _existing_runs(connection: Connection, run_ids: list[str]) -> set[str]:
        if connection.dialect.name == "sqlite" and len(run_ids) > JSON_EACH_FROM:
            return {row[0] for row in _sqlite_rows_in(connection, "SELECT id FROM run WHERE id", run_ids)}
        existing: set[str] = set()
        for condition in _where_in(connection.dialect, Run.id, run_ids):
            existing.update(connection.execute(select(Run.id).where(condition)).scalars())
        return existing

    def _delete_owned(self, connection: Connection, file_ids: list[int]) -> set[str]:
        touched: set[str] = set()
        for part in chunks(file_ids):
            for table in (RunFragment, Checkpoint, Event):
                touched.update(
                    connection.execute(
                        select(table.run_id).where(table.source_file_id.in_(part)).distinct()
                    ).scalars()
                )
            self._release_events(connection, list(part))
            for table in OWNED_TABLES:
                connection.execute(delete(table).where(table.source_file_id.in_(part)))
            self._release_checkpoints(connection, list(part))
        return touched

    @staticmethod
    def _release_checkpoints(connection: Connection, file_ids: list[int]) -> None:
        """The files stop holding their checkpoints. A checkpoint another file still holds
        stays, stored as that file's; the others go (versioned ones keep their history)."""
        links = CheckpointSource.__table__
        connection.execute(delete(links).where(links.c.source_file_id.in_(file_ids)))
        stored = (
            connection.execute(
                select(Checkpoint.id).where(
                    Checkpoint.source_file_id.in_(file_ids), Checkpoint.versioned.is_(False)
                )
            )
            .scalars()
            .all()
        )
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

    @staticmethod
    def _release_events(connection: Connection, file_ids: list[int]) -> None:
        """The files stop holding their events. An event stored as one of theirs that another
        file also holds passes to that file (and is kept); the rest go with the caller's delete."""
        links = EventSource.__table__
        connection.execute(delete(links).where(links.c.source_file_id.in_(file_ids)))
        holders = connection.execute(
            select(links.c.event_id, func.min(links.c.source_file_id))
            .join(Event.__table__, Event.id == links.c.event_id)
            .where(Event.source_file_id.in_(file_ids))
            .group_by(links.c.event_id)
        ).all()
        if not holders:
            return
        update_by_id(
            connection,
            Event.__table__,
            [{"b_id": event, "source_file_id": holder} for event, holder in holders],
        )
        _unlink(connection, links.c.event_id, holders)

    def _drop_inferred_status(self, connection: Connection, file_ids: list[int]) -> set[str]:
        """A deleted file's run fragments stop claiming a status they only inferred.

        The inference was drawn from the file being on disk (react-agent-harness leaves a
        checkpoint behind on a crash and deletes it on success); once the file is gone it is
        no evidence. The status, with the failure it implied, is taken out of the fragment;
        everything else it stated (task, agents, times, tokens) and its checkpoints stay."""
        touched: set[str] = set()
        for part in chunks(file_ids):
            query = select(RunFragment.id, RunFragment.run_id, RunFragment.data).where(
                RunFragment.source_file_id.in_(part)
            )
            changes = []
            for row in connection.execute(query):
                data = dict(row.data or {})
                inferred = list(data.get("inferred") or ())
                if "status" not in inferred:
                    continue
                inferred.remove("status")
                data.update(status=None, failure_reason=None, failure_signals={}, inferred=inferred)
                changes.append({"b_id": row.id, "data": data})
                touched.add(row.run_id)
            update_by_id(connection, RunFragment.__table__, changes)
        return touched

    # -- records -------------------------------------------------------------------------
    @staticmethod
    def _next_seq(connection: Connection, file_id: int) -> int:
        """Appended events number on after the file's earlier ones (ids never collide)."""
        last = connection.execute(select(func.max(Event.seq)).where(Event.source_file_id == file_id)).scalar()
        return 0 if last is None else int(last) + 1

    # -- derived run fields --------------------------------------------------------------
    def _refresh_runs(self, connection: Connection, run_ids: set[str]) -> None:
        for part in chunks(sorted(run_ids)):
            self._refresh_run_chunk(connection, list(part))

    def _refresh_run_chunk(self, connection: Connection, run_ids: list[str]) -> None:
        fragments: dict[str, list[dict[str, Any]]] = {run: [] for run in run_ids}
        query = select(RunFragment.run_id, RunFragment.data).where(RunFragment.run_id.in_(run_ids))
        for run, data in connection.execute(query):
            for key in ("as_of", "started_at", "ended_at"):
                data[key] = parse_timestamp(data.get(key))
            fragments[run].append(data)
        checkpoint_counts = dict(
            connection.execute(
                select(Checkpoint.run_id, func.count())
                .where(Checkpoint.run_id.in_(run_ids))
                .group_by(Checkpoint.run_id)
            ).all()
        )
        event_totals = {
            row[0]: EventTotals(row[1], tuple(row[2:7]), row[7], row[8])
            for row in connection.execute(
                select(
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
                .where(Event.run_id.in_(run_ids))
                .group_by(Event.run_id)
            )
        }
        updates, orphans = [], []
        for run in run_ids:
            n_checkpoints = checkpoint_counts.get(run, 0)
            totals = event_totals.get(run)
            if not fragments[run] and not n_checkpoints and not totals:
                orphans.append(run)
                continue
            updates.append(run_fields(fragments[run], n_checkpoints, totals) | {"b_id": run})
        update_by_id(connection, Run.__table__, updates)
        if orphans:
            connection.execute(delete(Run).where(Run.id.in_(orphans)))
        self._link_chains(connection, run_ids)

    def _link_chains(self, connection: Connection, run_ids: list[str]) -> None:
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


def _batch_rows(loaded: Iterable[FileOutcome], append_bases: dict[str, int]) -> BatchRows:
    """The batch's records as rows; ``source_file_id`` holds the file's path until
    ``PreparedBatch.insert`` puts in the id."""
    rows = BatchRows()
    for outcome in loaded:
        parsed = outcome.parsed
        assert parsed is not None
        file_id = outcome.path  # resolved to the id inside the transaction
        for record in parsed.runs:
            run = rows.run(record.framework, record.native_id)
            # ``data`` also feeds the run merge: the JSON column writes its datetimes as ISO text.
            rows.fragments.append(
                {
                    "source_file_id": file_id,
                    "run_id": run,
                    "priority": record.priority,
                    "as_of": record.as_of,
                    "data": _stated(record),
                }
            )
        for cp in parsed.checkpoints:
            run = rows.run(cp.framework, cp.run_native_id)
            rows.checkpoints.append(
                {
                    "id": ids.checkpoint_id(run, cp.native_id),
                    "run_id": run,
                    "source_file_id": file_id,
                    "native_id": cp.native_id,
                    "parent_native_id": cp.parent_native_id,
                    "parent_id": ids.checkpoint_id(run, cp.parent_native_id) if cp.parent_native_id else None,
                    "chain_key": cp.chain_key,
                    "agent_id": cp.agent_id,
                    "status": cp.status or "unknown",
                    "step": cp.step,
                    "created_at": cp.created_at,
                    "completed_steps": cp.completed_steps,
                    "remaining_steps": cp.remaining_steps,
                    "failure_reason": cp.failure_reason,
                    "summary": cp.summary,
                    "attributes": cp.attributes,
                    "inferred": cp.inferred,
                    "versioned": cp.versioned,
                    "document": cp.document,
                }
            )
        base_seq = append_bases.get(outcome.path, 0) if outcome.append else 0
        for seq, ev in enumerate(parsed.events, start=base_seq):
            run = rows.run(ev.framework, ev.run_native_id)
            row = _shallow(ev)
            del row["framework"], row["run_native_id"]
            row.update(
                id=ids.event_id(run, ev.native_id, outcome.path, seq),
                run_id=run,
                source_file_id=file_id,
                seq=seq,
            )
            rows.events.append(row)
        for price in parsed.prices:
            rows.prices.append(
                _shallow(price) | {"source_file_id": file_id, "source": price.source or outcome.path}
            )
        for manifest in parsed.manifests:
            rows.manifests.append(
                {
                    "source_file_id": file_id,
                    "agent_id": manifest.get("agent_id"),
                    "capabilities": manifest.get("capabilities"),
                    "document": manifest,
                }
            )
    rows.checkpoint_holders = list({(cp["id"], cp["source_file_id"]): None for cp in rows.checkpoints})
    rows.checkpoints = _dedupe(rows.checkpoints)
    # Only events with a native id can be held by two files (other ids include the path).
    rows.event_holders = list(
        {(ev["id"], ev["source_file_id"]): None for ev in rows.events if ev["native_id"]}
    )
    rows.events = _keep_fullest(rows.events)
    return rows


def _runs_as_if_new(rows: BatchRows) -> dict[str, dict[str, Any]]:
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
    run_fragments: dict[str, list[dict[str, Any]]] = {}
    for fragment in rows.fragments:
        run_fragments.setdefault(fragment["run_id"], []).append(fragment["data"])
    runs = {}
    for run, identity in rows.runs.items():
        events = run_events.get(run)
        fields = run_fields(
            run_fragments.get(run, []),
            checkpoint_counts.get(run, 0),
            totals_of(events) if events else None,
        )
        runs[run] = identity | fields
    return runs


def _stored_events(connection: Connection, event_ids: list[str]) -> dict[str, tuple[int, int]]:
    """For each of ``event_ids`` already stored: the file whose copy is stored, and how many
    of EVENT_DETAILS that copy states."""
    columns = [Event.__table__.c[name] for name in EVENT_DETAILS]
    stored: dict[str, tuple[int, int]] = {}
    for condition in _where_in(connection.dialect, Event.id, event_ids):
        for row in connection.execute(select(Event.id, Event.source_file_id, *columns).where(condition)):
            stored[row.id] = (row.source_file_id, _details(row._mapping))
    return stored


# What one copy of an event can state that another lacks: a loopengt trace line has token
# counts and the model, the same event in its traces.db has neither.
EVENT_CONTEXT = ("at", "agent_id", "step", "tool", "model", "duration_s", "error")
EVENT_USAGE = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")
EVENT_DETAILS = EVENT_CONTEXT + EVENT_USAGE


def _details(row: Any) -> int:
    """How many of EVENT_DETAILS a copy of an event states."""
    return sum(row[name] is not None for name in EVENT_DETAILS)


def _keep_fullest(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per event id: the copy that states the most details (the last of equals)."""
    kept: dict[str, dict[str, Any]] = {}
    for event in events:
        other = kept.get(event["id"])
        if other is None or _details(event) >= _details(other):
            kept[event["id"]] = event
    return list(kept.values())


def _file_rows(outcomes: Sequence[FileOutcome]) -> list[dict[str, Any]]:
    """The ``source_file`` rows of a batch, one per path (seen_at and loaded_at are added
    under the write lock)."""
    rows = [
        {
            "path": o.path,
            "format": o.format,
            "framework": o.framework,
            "size": o.size,
            "mtime_ns": o.mtime_ns,
            "content_hash": o.content_hash,
            "outcome": o.outcome,
            "error": o.error,
            "error_line": o.error_line,
            "warnings": o.warnings,
            "read_offset": o.read_offset,  # reset when failed or gone: next read is whole
            "line_count": o.line_count,
        }
        for o in outcomes
    ]
    return _dedupe(rows, "path")


def _dedupe(rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """Keep the last row per key: one statement may not upsert the same key twice."""
    return list({row[key]: row for row in rows}.values())


@dataclass
class BatchRows:
    """A write batch's records as table rows (fragment ``data`` keeps its datetimes)."""

    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> identity columns
    fragments: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    checkpoint_holders: list[tuple[str, Any]] = field(default_factory=list)  # (checkpoint, file)
    event_holders: list[tuple[str, Any]] = field(default_factory=list)  # (event with native id, file)
    events: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    _run_ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def prepare(self, dialect: Dialect) -> PreparedBatch:
        """The rows bound for ``dialect``, ready to insert once the files' ids are known."""
        return PreparedBatch(
            fragments=prepare(dialect, RunFragment.__table__, self.fragments),
            checkpoints=prepare(dialect, Checkpoint.__table__, self.checkpoints),
            checkpoint_holders=self.checkpoint_holders,
            events=prepare(dialect, Event.__table__, self.events),
            event_holders=self.event_holders,
            prices=self.prices,
            manifests=self.manifests,
        )

    def run(self, framework: str, native_id: str) -> str:
        """The run's id, computed once per batch (a trace file names its run per event)."""
        key = self._run_ids.get((framework, native_id))
        if key is None:
            key = self._run_ids[framework, native_id] = ids.run_id(framework, native_id)
            self.runs.setdefault(key, {"id": key, "framework": framework, "native_id": native_id})
        return key


@dataclass
class PreparedBatch:
    """A batch's rows bound for the database; ``source_file_id`` still holds paths."""

    fragments: Prepared
    checkpoints: Prepared
    checkpoint_holders: list[tuple[str, Any]]
    events: Prepared
    event_holders: list[tuple[str, Any]]
    prices: list[dict[str, Any]]
    manifests: list[dict[str, Any]]

    def insert(self, connection: Connection, file_ids: dict[str, int], new_runs: set[str]) -> None:
        """Insert the rows; ``new_runs`` are the runs the database did not hold before."""
        for part in (self.fragments, self.checkpoints, self.events):
            part.replace("source_file_id", file_ids)
        for row in self.prices + self.manifests:
            row["source_file_id"] = file_ids[row["source_file_id"]]
        insert_prepared(connection, self.fragments)
        self._insert_checkpoints(connection, file_ids, new_runs)
        written = insert_prepared(connection, self.events, conflict="nothing")
        holders = [(event, file_ids[path]) for event, path in self.event_holders]
        shared = written != len(self.events.values) or len(holders) > len({event for event, _ in holders})
        if holders and shared:
            # Some event is also another file's. The stored copy is the one that states the
            # most details (a copy stored before is replaced only by a fuller one); the files
            # whose copy is not stored are recorded as holders.
            stored = _stored_events(connection, list({event: None for event, _ in holders}))
            previous = self._store_fuller_copies(connection, stored)
            extra = [(e, f) for e, f in holders if stored[e][0] != f] + list(previous.items())
            bulk_insert(
                connection,
                EventSource.__table__,
                [{"event_id": e, "source_file_id": f} for e, f in dict.fromkeys(extra)],
                conflict="nothing",
                key=None,
            )
        if self.prices:
            connection.execute(Price.__table__.insert(), self.prices)
        if self.manifests:
            connection.execute(AgentManifest.__table__.insert(), self.manifests)

    def _insert_checkpoints(
        self, connection: Connection, file_ids: dict[str, int], new_runs: set[str]
    ) -> None:
        """Store the batch's checkpoints (this batch's copy replaces one stored before: the
        last file to write a checkpoint holds the stored copy) and record in
        ``checkpoint_source`` every other file that holds one. Only checkpoints of runs the
        database held before can have been stored by another file: they alone are looked up."""
        checkpoints = self.checkpoints
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
        for condition in _where_in(connection.dialect, Checkpoint.id, maybe_stored):
            earlier.update(
                connection.execute(select(Checkpoint.id, Checkpoint.source_file_id).where(condition)).all()
            )
        insert_prepared(connection, checkpoints, conflict="update")
        holders = [(key, file_ids[path]) for key, path in self.checkpoint_holders]
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

    def _store_fuller_copies(
        self, connection: Connection, stored: dict[str, tuple[int, int]]
    ) -> dict[str, int]:
        """Where this batch's copy of a stored event states more details than the stored
        copy, store this batch's copy instead (and its file as the event's). ``stored`` maps
        event id to (file, details) and is updated; returns event id -> the file it was."""
        events = self.events
        at = {name: events.columns.index(name) for name in ("id", "source_file_id", *EVENT_DETAILS)}
        fuller, previous = [], {}
        for row in events.values:  # value lists on SQLite, dicts elsewhere
            values = {name: row[index] for name, index in at.items()} if events.sqlite else row
            key, file_id = values["id"], values["source_file_id"]
            if key not in stored or stored[key][0] == file_id:
                continue
            details = _details(values)
            if details > stored[key][1]:
                previous[key] = stored[key][0]
                stored[key] = (file_id, details)
                fuller.append(row)
        update_prepared(connection, Prepared(events.table, events.columns, fuller, events.sqlite))
        return previous

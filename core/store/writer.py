"""The store: ``write_batch`` applies a batch of file outcomes as numbered steps in order.

What each step does lives in the modules beside this one (see the package's docstring for
what a batch guarantees); the order of the work, and of the inserts, is read here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.outcomes import FileOutcome, KnownFile
from core.store import files, holders, joins, lookups
from core.store.bulk import insert_prepared, prepare
from core.store.lock import take_write_lock
from core.store.rows import batch_rows, file_rows
from core.store.runfields import refresh_runs, runs_as_if_new
from core.store.wal import WalCheckpointer
from core.tables import AgentManifest, Checkpoint, Event, Price, Run, RunFragment, RunJoin, SourceFile


class _StaleAppends(Exception):
    """A batch's appends that another writer got ahead of (see step 4)."""

    def __init__(self, paths: set[str]) -> None:
        super().__init__(sorted(paths))
        self.paths = paths


class Store:
    """One database's write path (several may share it: each batch takes the write lock)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._passes = 0
        self._passes_lock = threading.Lock()
        self._wal_checkpointer: WalCheckpointer | None = None

    @contextmanager
    def background_wal_checkpoints(self) -> Iterator[None]:
        """While this is entered (by one or several passes at once), a SQLite file's log
        is checkpointed by a thread of its own, not inside this store's commits
        (``core.store.wal``). Does nothing for other databases."""
        if self.database_path is None:
            yield
            return
        with self._passes_lock:
            self._passes += 1
            if self._wal_checkpointer is None:
                self._wal_checkpointer = WalCheckpointer(self.database_path)
                self._wal_checkpointer.start()
        try:
            yield
        finally:
            with self._passes_lock:
                self._passes -= 1
                ending = self._wal_checkpointer if self._passes == 0 else None
                if ending is not None:
                    self._wal_checkpointer = None
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
                    query = query.where(lookups.below(connection, under.rstrip("/") + "/"))
                make = KnownFile._make
                return {row[0]: make(row[1:]) for row in connection.execute(query).all()}
            known: dict[str, KnownFile] = {}
            for condition in lookups.where_in(connection.dialect, SourceFile.path, list(paths)):
                for row in connection.execute(select(*columns).where(condition)).all():
                    known[row[0]] = KnownFile._make(row[1:])
            return known

    def write_batch(self, outcomes: Sequence[FileOutcome]) -> set[str]:
        """Apply a batch in one transaction; return the ids of the runs it touched.

        Runs first seen in the batch are computed from the batch's own rows and inserted
        whole; only runs that existed before are recomputed from what the database holds."""
        try:
            return self._write_batch(outcomes)
        except _StaleAppends as stale:  # rolled back: again without them
            return self.write_batch([o for o in outcomes if o.path not in stale.paths])

    def _write_batch(self, outcomes: Sequence[FileOutcome]) -> set[str]:
        if not outcomes:
            return set()
        # Steps 1 to 3 need no lock and are done before the write transaction starts: with
        # several ingest processes, the database is the part they take turns at.
        # 1. The loaded files' records as rows; ``source_file_id`` holds paths until step 8.
        loaded = [o for o in outcomes if o.outcome == "loaded" and o.parsed is not None]
        appended = [o for o in loaded if o.append]
        rows = batch_rows(loaded, self._append_bases([o.path for o in appended]))
        if appended:  # new lines add their bad lines to those listed before
            with self.engine.connect() as connection:
                files.carry_bad_lines(connection, appended)
        # 2. Every run computed from the batch's rows alone, as if it were new: right for the
        #    runs the database does not hold yet. Links the chains in the checkpoint rows too.
        dialect = self.engine.dialect
        as_if_new = runs_as_if_new(rows)
        candidate_runs = prepare(dialect, Run.__table__, [as_if_new[run] for run in sorted(as_if_new)])
        # 3. The rows bound for the database (on SQLite, through the columns' bind processors).
        fragments = prepare(dialect, RunFragment.__table__, rows.fragments)
        checkpoints = prepare(dialect, Checkpoint.__table__, rows.checkpoints)
        events = prepare(dialect, Event.__table__, rows.events)
        source_files = file_rows(outcomes)
        prepared_files = prepare(dialect, SourceFile.__table__, source_files)
        wal_checkpointer = self._wal_checkpointer
        with self.engine.begin() as connection:
            # 4. Take the write lock before reading anything. New lines read from an offset
            #    the file has moved past since (another writer loaded them, or the whole
            #    file, first: a watcher and a `baton ingest` of one folder) would be stored
            #    twice: the batch is written again without them.
            take_write_lock(connection, wal_checkpointer)
            appends = [(o.path, o.append_from) for o in loaded if o.append]
            if appends and (stale := lookups.stale_appends(connection, appends)):
                raise _StaleAppends(stale)
            # 5. Insert or update the ``source_file`` rows. Stamped under the lock: max(seen_at)
            #    must grow with every commit (the dashboard's data version), even one that
            #    waited for another writer's.
            existing = lookups.file_ids(connection, [o.path for o in outcomes])
            now = lookups.commit_stamp(connection)
            prepared_files.add_column(dialect, "seen_at", [now] * len(source_files))
            prepared_files.add_column(
                dialect, "loaded_at", [now if row["outcome"] == "loaded" else None for row in source_files]
            )
            file_ids = existing | files.write_files(connection, prepared_files, existing)
            # 6. Files loaded before give up what they contributed (only they can own records
            #    to replace: new files skip the deletes), unless read in part (new lines) or
            #    not completely (bad lines, a log cut short); a file re-read for some runs only
            #    (``replaces_runs``) gives up its records of those; deleted files their inferred status.
            whole = [o for o in loaded if not (o.append or o.keeps) and o.path in existing]
            replaced = [existing[o.path] for o in whole if o.replaces_runs is None]
            touched = files.delete_owned(connection, replaced)
            for o in whole:  # a re-read of some runs of a file: its records of them only
                if o.replaces_runs:
                    touched |= files.delete_owned(connection, [existing[o.path]], o.replaces_runs)
            gone = [file_ids[o.path] for o in outcomes if o.outcome == "deleted" and o.path in file_ids]
            touched |= files.drop_inferred_status(connection, gone)
            # 7. Insert the runs the database does not hold yet, whole (as computed in step 2).
            new_runs = set(rows.runs) - touched - lookups.existing_runs(connection, list(rows.runs))
            candidate_runs.add_column(dialect, "updated_at", [now] * len(as_if_new))
            insert_prepared(connection, candidate_runs.only("id", new_runs))
            # 8. The rows' paths become the files' ids.
            for part in (fragments, checkpoints, events):
                part.replace("source_file_id", file_ids)
            for row in rows.prices + rows.manifests:
                row["source_file_id"] = file_ids[row["source_file_id"]]
            # 9. Insert, in this order: run fragments; checkpoints and the other files that
            #    hold them; events and theirs; prices; agent manifests.
            insert_prepared(connection, fragments)
            holders.insert_checkpoints(connection, checkpoints, rows.checkpoint_holders, file_ids, new_runs)
            holders.insert_events(connection, events, rows.event_holders, file_ids)
            if rows.prices:
                connection.execute(Price.__table__.insert(), rows.prices)
            if rows.manifests:
                connection.execute(AgentManifest.__table__.insert(), rows.manifests)
            # 10. Runs that are part of another file's run (a worker and its session) are
            #    stored as that run's, or as their own again, by what the database holds now.
            if rows.joins:
                for row in rows.joins:
                    row["source_file_id"] = file_ids[row["source_file_id"]]
                connection.execute(RunJoin.__table__.insert(), rows.joins)
            touched |= set(rows.runs)
            keys = joins.framework_keys(connection, rows.runs, touched)
            keys |= {(row["framework"], row["join_key"]) for row in rows.joins}
            moved = joins.relink(connection, keys)
            touched |= moved
            # 11. Runs that existed are recomputed from the database (chains relinked with it),
            #     and new ones whose records moved.
            refresh_runs(connection, (touched - new_runs) | moved, now)
        # 12. After the commit, the WAL thread looks whether the log has grown past its threshold.
        if wal_checkpointer is not None:
            wal_checkpointer.nudge()
        return touched

    def _append_bases(self, paths: list[str]) -> dict[str, int]:
        """For files read from an offset: the seq their new events number on from (read
        before the write transaction; one ingester tails a given file at a time)."""
        if not paths:
            return {}
        with self.engine.connect() as connection:
            return {
                path: lookups.next_seq(connection, file_id)
                for path, file_id in lookups.file_ids(connection, paths).items()
            }

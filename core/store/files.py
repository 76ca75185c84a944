"""The batch's ``source_file`` rows, and what a file loaded again or deleted gives up."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from core.outcomes import MAX_BAD_LINES, FileOutcome
from core.store import lookups
from core.store.bulk import Prepared, insert_prepared, update_by_id
from core.store.holders import release_checkpoints, release_events
from core.tables import AgentManifest, Checkpoint, Event, Price, RunFragment, RunJoin, SourceFile

OWNED_TABLES = (RunFragment, RunJoin, Event, Price, AgentManifest)


def write_files(connection: Connection, files: Prepared, existing: dict[str, int]) -> dict[str, int]:
    """Insert or update the batch's ``source_file`` rows; return the new files' ids.

    On SQLite the new files are given their ids here, the next ones after the largest
    (as SQLite itself would: the write lock is held), so no lookup follows the insert."""
    keep = ("format", "framework", "loaded_at")  # a failed or deleted file keeps its last good load
    if not files.sqlite:
        insert_prepared(connection, files, conflict="update", key="path", keep_when_null=keep)
        return lookups.file_ids(
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


def delete_owned(connection: Connection, file_ids: list[int], runs: list[str] | None = None) -> set[str]:
    """The files give up the records they contributed (those another file also holds pass
    to it), or, given ``runs`` (run ids), only their records of those runs (their prices
    and manifests, of no run, stay); returns the runs they were of."""
    touched: set[str] = set()
    for part in lookups.chunks(file_ids):
        for table in (RunFragment, Checkpoint, Event):
            query = select(table.run_id).where(table.source_file_id.in_(part))
            if runs is not None:
                query = query.where(table.run_id.in_(runs))
            touched.update(connection.execute(query.distinct()).scalars())
        release_events(connection, list(part), runs)
        for table in OWNED_TABLES if runs is None else (RunFragment, RunJoin, Event):
            statement = delete(table).where(table.source_file_id.in_(part))
            if runs is not None:
                statement = statement.where(table.run_id.in_(runs))
            connection.execute(statement)
        release_checkpoints(connection, list(part), runs)
    return touched


def drop_inferred_status(connection: Connection, file_ids: list[int]) -> set[str]:
    """A deleted file's run fragments stop claiming a status they only inferred.

    The inference was drawn from the file being on disk (react-agent-harness leaves a
    checkpoint behind on a crash and deletes it on success); once the file is gone it is
    no evidence. The status, with the failure it implied, is taken out of the fragment;
    everything else it stated (task, agents, times, tokens) and its checkpoints stay."""
    touched: set[str] = set()
    for part in lookups.chunks(file_ids):
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


def carry_bad_lines(connection: Connection, appended: list[FileOutcome]) -> None:
    """New lines of a log add their bad lines to those listed of its earlier lines (read
    before the write transaction: one ingester tails a given file at a time)."""
    by_path = {o.path: o for o in appended}
    for condition in lookups.where_in(connection.dialect, SourceFile.path, list(by_path)):
        query = select(SourceFile.path, SourceFile.bad_lines, SourceFile.bad_line_count).where(
            condition, SourceFile.bad_line_count > 0
        )
        for path, listed, count in connection.execute(query):
            outcome = by_path[path]
            earlier = [(int(line), str(reason)) for line, reason in listed or ()]
            numbers = {line for line, _ in earlier}
            outcome.bad_lines = (earlier + [b for b in outcome.bad_lines if b[0] not in numbers])[
                :MAX_BAD_LINES
            ]
            outcome.bad_line_count += count  # new lines: none of them was counted before

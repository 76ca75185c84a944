"""The write path's lookups, in each database's quickest SQL.

On SQLite a long list of values is passed as one JSON array that ``json_each`` reads; on
PostgreSQL (and for a few values anywhere) as plain IN lists of CHUNK values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import String, and_, func, literal, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.elements import ColumnElement

from core.tables import Event, Run, SourceFile
from core.timeutil import utcnow

CHUNK = 500
JSON_EACH_FROM = 50  # values; below, an IN list (json_each's statement costs ~0.1 ms more to build)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def where_in(dialect: Dialect, column: Any, values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
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


def sqlite_rows_in(connection: Connection, query: str, values: Sequence[Any]) -> list[Any]:
    """The rows of ``query`` (ending in the column to match) for a value among ``values``, in
    the driver's own statement: building SQLAlchemy's select cost as much as the lookup, and
    a batch makes its lookups under the write lock."""
    sql = f"{query} IN (SELECT value FROM json_each(?))"
    return connection.exec_driver_sql(sql, (orjson.dumps(list(values)).decode(),)).all()


def below(connection: Connection, prefix: str) -> ColumnElement[bool]:
    """Paths starting with ``prefix`` (a folder ending in "/"). LIKE reads every row: right
    when the folder holds much of the database. For a small part of it on SQLite, a range
    its path index answers (SQLite compares text bytewise; "0" is the character after "/").
    Elsewhere LIKE always: a range would depend on the collation."""
    like = SourceFile.path.startswith(prefix, autoescape=True)
    if connection.dialect.name != "sqlite" or not prefix.endswith("/"):
        return like
    in_range = and_(SourceFile.path >= prefix, SourceFile.path < prefix[:-1] + "0")
    inside = connection.execute(select(func.count()).where(in_range)).scalar_one()  # from the index
    rows = connection.execute(select(func.max(SourceFile.id))).scalar() or 0  # about the table's size
    return in_range if inside * 4 < rows else like


def file_ids(connection: Connection, paths: list[str]) -> dict[str, int]:
    """path -> ``source_file`` id of those of ``paths`` recorded before."""
    if connection.dialect.name == "sqlite" and len(paths) > JSON_EACH_FROM:
        return dict(sqlite_rows_in(connection, "SELECT path, id FROM source_file WHERE path", paths))
    found: dict[str, int] = {}
    for condition in where_in(connection.dialect, SourceFile.path, paths):
        found.update(connection.execute(select(SourceFile.path, SourceFile.id).where(condition)).all())
    return found


def existing_runs(connection: Connection, run_ids: list[str]) -> set[str]:
    """Those of ``run_ids`` the database holds."""
    if connection.dialect.name == "sqlite" and len(run_ids) > JSON_EACH_FROM:
        return {row[0] for row in sqlite_rows_in(connection, "SELECT id FROM run WHERE id", run_ids)}
    existing: set[str] = set()
    for condition in where_in(connection.dialect, Run.id, run_ids):
        existing.update(connection.execute(select(Run.id).where(condition)).scalars())
    return existing


def commit_stamp(connection: Connection) -> datetime:
    """The time a batch stamps on its files and runs, read under the write lock: this
    machine's clock, but always after the newest stamp already committed. Writers take turns
    at the lock, so stamps then grow with every commit whatever the writers' clocks say (a
    team's machines drift; a writer may wait long for the lock): ``max(seen_at)`` is the
    dashboard's data version, and the rollup finds changed runs by ``updated_at``."""
    now = utcnow()
    last = connection.execute(select(func.max(SourceFile.seen_at))).scalar()  # from the index
    if last is not None and last >= now:
        return last + timedelta(microseconds=1)
    return now


def next_seq(connection: Connection, file_id: int) -> int:
    """Appended events number on after the file's earlier ones (ids never collide)."""
    last = connection.execute(select(func.max(Event.seq)).where(Event.source_file_id == file_id)).scalar()
    return 0 if last is None else int(last) + 1


def stale_appends(connection: Connection, appends: Sequence[tuple[str, int]]) -> set[str]:
    """Of (path, offset its new lines were read from), the files whose recorded read_offset
    is another by now: another writer loaded those lines, or the whole file, first."""
    wanted = dict(appends)
    stale: set[str] = set()
    for condition in where_in(connection.dialect, SourceFile.path, list(wanted)):
        for path, offset in connection.execute(
            select(SourceFile.path, SourceFile.read_offset).where(condition)
        ):
            if offset != wanted[path]:
                stale.add(path)
    return stale

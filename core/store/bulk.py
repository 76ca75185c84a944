"""Bulk inserts and upserts of many rows in one statement.

On SQLite the rows go straight to the driver's ``executemany`` with the columns' own bind
processors applied once per value: SQLAlchemy's generic per-row parameter handling was the
largest cost of a cold ingest. Other databases (PostgreSQL) go through SQLAlchemy Core's
dialect upserts, which batch well there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import JSON, Table, bindparam, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeEngine

from core.tables import UTCDateTime

Conflict = Literal["error", "nothing", "update"]


@dataclass(slots=True)
class Prepared:
    """Rows ready for one bulk insert: on SQLite, value lists already through the columns'
    bind processors (so the work can happen before the write lock is taken); elsewhere the
    dicts themselves."""

    table: Table
    columns: list[str]
    values: list[Any]  # lists of bound values (SQLite) or the row dicts (other databases)
    sqlite: bool

    def replace(self, column: str, mapping: Mapping[Any, Any]) -> None:
        """Replace every value of ``column`` by ``mapping[value]`` (e.g. paths by file ids:
        the column's bind processor must leave such values as they are)."""
        if not self.values:
            return
        if not self.sqlite:
            for row in self.values:
                row[column] = mapping[row[column]]
            return
        index = self.columns.index(column)
        for row in self.values:
            row[index] = mapping[row[index]]

    def add_column(self, dialect: Dialect, column: str, values: Sequence[Any]) -> None:
        """Give every row a value of ``column`` (one per row, bound like the others; the
        values are hashable, and each distinct one is bound once: a batch's rows share a
        time stamped under the write lock)."""
        self.columns.append(column)  # also names it in an upsert's SET list
        if not self.sqlite:
            for row, value in zip(self.values, values, strict=True):
                row[column] = value
            return
        process = _bind_processor(self.table.c[column].type, dialect)
        bound = {value: process(value) if process is not None else value for value in set(values)}
        for row, value in zip(self.values, values, strict=True):
            row.append(bound[value])

    def only(self, column: str, keep: set[Any]) -> Prepared:
        """The rows whose ``column`` is in ``keep`` (a value its bind processor leaves as is)."""
        if self.sqlite and self.values:
            index = self.columns.index(column)
            rows = [row for row in self.values if row[index] in keep]
        else:
            rows = [row for row in self.values if row[column] in keep]
        return Prepared(self.table, self.columns, rows, self.sqlite)


def prepare(dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]) -> Prepared:
    """``rows`` (dicts with the same keys) prepared for ``insert_prepared``."""
    columns = list(rows[0]) if rows else []
    if dialect.name != "sqlite" or not rows:
        return Prepared(table, columns, list(rows), sqlite=False)
    processors = [_bind_processor(table.c[name].type, dialect) for name in columns]
    return Prepared(table, columns, _parameters(columns, processors, rows), sqlite=True)


def bulk_insert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Conflict = "error",
    key: str | None = "id",
    keep_when_null: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (dicts with the same keys). On a conflict on ``key`` (for "nothing",
    ``None`` means any unique key): raise, skip the row, or overwrite every other given
    column (those in ``keep_when_null`` only with a value: a NULL leaves the stored one).
    Column defaults declared in Python are not applied: give every NOT NULL column."""
    if rows:
        insert_prepared(connection, prepare(connection.dialect, table, rows), conflict, key, keep_when_null)


def insert_prepared(
    connection: Connection,
    prepared: Prepared,
    conflict: Conflict = "error",
    key: str | None = "id",
    keep_when_null: Sequence[str] = (),
) -> int:
    """Insert the rows; returns how many were written, or -1 when the driver cannot tell
    (rows skipped on a conflict are not written)."""
    if not prepared.values:
        return 0
    table, columns = prepared.table, prepared.columns
    if prepared.sqlite:
        return _driver_executemany(
            connection, _sqlite_sql(table, columns, conflict, key, keep_when_null), prepared.values
        )
    statement = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
    if conflict == "nothing":
        statement = statement.on_conflict_do_nothing(index_elements=[key] if key else None)
    elif conflict == "update":
        set_ = {
            c: func.coalesce(statement.excluded[c], table.c[c])
            if c in keep_when_null
            else statement.excluded[c]
            for c in columns
            if c != key
        }
        statement = statement.on_conflict_do_update(index_elements=[key], set_=set_)
    return connection.execute(statement, prepared.values).rowcount


def update_by_id(connection: Connection, table: Table, changes: Sequence[dict[str, Any]]) -> None:
    """Set each change's columns on the row whose id is its ``b_id`` (one executemany;
    every change names the same columns)."""
    if changes:
        values = {name: bindparam(name) for name in changes[0] if name != "b_id"}
        connection.execute(update(table).where(table.c.id == bindparam("b_id")).values(values), changes)


def update_prepared(connection: Connection, prepared: Prepared) -> None:
    """Overwrite every other given column of the stored rows with the same ``id``."""
    if not prepared.values:
        return
    columns = prepared.columns
    others = [name for name in columns if name != "id"]
    if not prepared.sqlite:
        update_by_id(
            connection,
            prepared.table,
            [{name: row[name] for name in others} | {"b_id": row["id"]} for row in prepared.values],
        )
        return
    index = columns.index("id")  # SQLite: the values are bound already, so the driver takes them
    sets = ", ".join(f'"{name}" = ?' for name in others)
    _driver_executemany(
        connection,
        f'UPDATE "{prepared.table.name}" SET {sets} WHERE "id" = ?',
        [[v for i, v in enumerate(row) if i != index] + [row[index]] for row in prepared.values],
    )


def _driver_executemany(connection: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """SQLite: ``sql`` run for each of ``rows`` (value lists, bound already) by the driver
    itself, inside the connection's transaction; returns the rows changed. SQLAlchemy's own
    path wants tuples and adds a statement context each time: about 1 us a file of a
    batch, under the write lock."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


def _sqlite_sql(
    table: Table, columns: list[str], conflict: Conflict, key: str | None, keep_when_null: Sequence[str]
) -> str:
    quoted = ", ".join(f'"{name}"' for name in columns)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in columns)})'
    if conflict == "nothing":
        sql += f' ON CONFLICT("{key}") DO NOTHING' if key else " ON CONFLICT DO NOTHING"
    elif conflict == "update":
        updates = ", ".join(
            f'"{name}" = coalesce(excluded."{name}", "{table.name}"."{name}")'
            if name in keep_when_null
            else f'"{name}" = excluded."{name}"'
            for name in columns
            if name != key
        )
        sql += f' ON CONFLICT("{key}") DO UPDATE SET {updates}'
    return sql


def _parameters(
    columns: list[str], processors: list[Callable[[Any], Any] | None], rows: Sequence[dict[str, Any]]
) -> list[list[Any]]:
    """Rows as value lists, each value through its column's bind processor."""
    get = itemgetter(*columns)
    values = [[get(row)] for row in rows] if len(columns) == 1 else [list(get(row)) for row in rows]
    processed = [(index, process) for index, process in enumerate(processors) if process is not None]
    for row in values:
        for index, process in processed:
            row[index] = process(row[index])
    return values


def _bind_processor(column_type: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's bind processor; for Baton's JSON and UTC datetime columns an equivalent
    one without SQLAlchemy's per-value indirection (the same stored text)."""
    if isinstance(column_type, JSON) and not column_type.none_as_null:
        return dialect._json_serializer  # type: ignore[attr-defined]  # None -> 'null', as SQLAlchemy
    if isinstance(column_type, UTCDateTime):
        fallback = column_type._cached_bind_processor(dialect)

        def process(value: Any) -> Any:
            if type(value) is datetime:
                if value.tzinfo is UTC:  # what Baton's records hold
                    return _utc_text(value)
                if value.tzinfo is not None:
                    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            return fallback(value) if fallback else value

        return process
    return column_type._cached_bind_processor(dialect)


@functools.lru_cache(maxsize=4096)
def _utc_text(value: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it on SQLite ("+00:00" cut off). Cached: a batch
    repeats its times (a run starts when its first checkpoint was made; every file row of a
    batch is seen at the same moment), and ``isoformat`` of an aware datetime costs ~2 us."""
    return value.isoformat(" ", "microseconds")[:-6]

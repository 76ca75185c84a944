"""Bulk inserts and upserts of many rows in one statement.

On SQLite the rows go straight to the driver's ``executemany`` with the columns' own bind
processors applied once per value: SQLAlchemy's generic per-row parameter handling was the
largest cost of a cold ingest. Other databases (PostgreSQL) go through SQLAlchemy Core's
dialect upserts, which batch well there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

Conflict = Literal["error", "nothing", "update"]


def bulk_insert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Conflict = "error",
    key: str = "id",
) -> None:
    """Insert ``rows`` (dicts with the same keys). On a conflict on ``key``: raise, skip the
    row, or overwrite every other given column."""
    if not rows:
        return
    columns = list(rows[0])
    if connection.dialect.name == "sqlite":
        _sqlite_executemany(connection, table, columns, rows, conflict, key)
        return
    statement = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
    if conflict == "nothing":
        statement = statement.on_conflict_do_nothing(index_elements=[key])
    elif conflict == "update":
        statement = statement.on_conflict_do_update(
            index_elements=[key], set_={c: statement.excluded[c] for c in columns if c != key}
        )
    connection.execute(statement, list(rows))


def _sqlite_executemany(
    connection: Connection,
    table: Table,
    columns: list[str],
    rows: Sequence[dict[str, Any]],
    conflict: Conflict,
    key: str,
) -> None:
    dialect = connection.dialect
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    quoted = ", ".join(f'"{name}"' for name in columns)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in columns)})'
    if conflict == "nothing":
        sql += f' ON CONFLICT("{key}") DO NOTHING'
    elif conflict == "update":
        updates = ", ".join(f'"{name}" = excluded."{name}"' for name in columns if name != key)
        sql += f' ON CONFLICT("{key}") DO UPDATE SET {updates}'
    pairs = list(zip(columns, processors, strict=True))
    parameters = [
        tuple(process(row[name]) if process else row[name] for name, process in pairs) for row in rows
    ]
    connection.exec_driver_sql(sql, parameters)

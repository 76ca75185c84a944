"""The write lock a batch takes as the first thing in its transaction.

Several ingest processes (and the dashboard's watcher) may write one database; they take
turns at this lock, one batch at a time.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from core.store.wal import WalCheckpointer

WRITE_LOCK_KEY = 72617  # PostgreSQL advisory lock that Baton's writers take turns at


def take_write_lock(connection: Connection, wal_checkpointer: WalCheckpointer | None) -> None:
    """Take the write lock before the batch reads anything: the file ids it reads first
    must still hold when it writes (two processes loading one file at once would both
    take it for new and store its records twice)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # Off while a thread checkpoints the log for us (unless it fell behind); else
        # SQLite's default, 1,000 pages.
        deferred = wal_checkpointer is not None and not wal_checkpointer.behind()
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={0 if deferred else 1000}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

"""The rows of a langgraph-checkpoint-sqlite database, read through the one read-only open.

Recognised by its tables and columns (``checkpoints`` with ``checkpoint_ns`` beside a
``writes`` table), never by name: techrevati's store also has a ``checkpoints`` table, with
other columns. ``writes.task_path`` exists only once a 3.x saver opened the file.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.content import connect_read_only

CHECKPOINT_COLUMNS = {
    "thread_id",
    "checkpoint_ns",
    "checkpoint_id",
    "parent_checkpoint_id",
    "type",
    "checkpoint",
    "metadata",
}
WRITE_COLUMNS = {"thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx", "channel", "type", "value"}


@dataclass(slots=True)
class Rows:
    checkpoints: list[tuple[Any, ...]] = field(default_factory=list)  # CHECKPOINT_SELECT order
    writes: list[tuple[Any, ...]] = field(default_factory=list)  # WRITE_SELECT order
    has_task_path: bool = False
    # Highest rowid of each table read (a saver only inserts or replaces rows, and a
    # replaced row gets a new rowid): where a later read of the grown file starts.
    max_rowids: tuple[int, int] = (0, 0)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def is_langgraph(db: sqlite3.Connection) -> bool:
    return _columns(db, "checkpoints") >= CHECKPOINT_COLUMNS and _columns(db, "writes") >= WRITE_COLUMNS


def looks_like_langgraph(path: Path) -> bool:
    try:
        with closing(connect_read_only(path)) as db:
            return is_langgraph(db)
    except sqlite3.Error:
        return False


CHECKPOINT_SELECT = (
    "SELECT rowid, thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata"
    " FROM checkpoints"
)


def read_rows(path: Path, threads: set[str] | None = None) -> Rows:
    """Every checkpoint and write (of ``threads`` only, when given), oldest id first within
    each thread and namespace. Raises sqlite3.Error."""
    rows = Rows()
    with closing(connect_read_only(path)) as db:
        rows.has_task_path = "task_path" in _columns(db, "writes")
        task_path = "task_path" if rows.has_task_path else "''"
        where, args = "", ()
        if threads is not None:
            where, args = f" WHERE thread_id IN ({','.join('?' * len(threads))})", tuple(sorted(threads))
        # One read transaction, so checkpoints and writes are of the same moment.
        db.execute("BEGIN")
        rows.checkpoints = db.execute(
            CHECKPOINT_SELECT + where + " ORDER BY thread_id, checkpoint_ns, checkpoint_id", args
        ).fetchall()
        rows.writes = db.execute(
            "SELECT rowid, thread_id, checkpoint_ns, checkpoint_id, task_id, "
            f"{task_path}, idx, channel, type, value FROM writes{where}"
            " ORDER BY thread_id, checkpoint_ns, checkpoint_id, task_id, idx",
            args,
        ).fetchall()
        rows.max_rowids = (
            db.execute("SELECT coalesce(max(rowid), 0) FROM checkpoints").fetchone()[0],
            db.execute("SELECT coalesce(max(rowid), 0) FROM writes").fetchone()[0],
        )
        db.execute("COMMIT")
    return rows


def threads_changed_since(path: Path, max_rowids: tuple[int, int]) -> tuple[set[str], tuple[int, int]]:
    """The threads with a checkpoint or write row newer than ``max_rowids``, and the new
    highest rowids."""
    with closing(connect_read_only(path)) as db:
        db.execute("BEGIN")
        threads = {
            row[0]
            for row in db.execute(
                "SELECT DISTINCT thread_id FROM checkpoints WHERE rowid > ? "
                "UNION SELECT DISTINCT thread_id FROM writes WHERE rowid > ?",
                max_rowids,
            )
        }
        new = (
            db.execute("SELECT coalesce(max(rowid), 0) FROM checkpoints").fetchone()[0],
            db.execute("SELECT coalesce(max(rowid), 0) FROM writes").fetchone()[0],
        )
        db.execute("COMMIT")
    return threads, new

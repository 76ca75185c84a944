"""The rows of a langgraph-checkpoint-sqlite database, read through the one read-only open.

Recognised by its tables and columns (``checkpoints`` with ``checkpoint_ns`` beside a
``writes`` table), never by name: techrevati's store also has a ``checkpoints`` table, with
other columns. ``writes.task_path`` exists only once a 3.x saver opened the file.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable
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
    scan: Scan | None = None  # the keys of every row of the file at the time of the read


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


STATE = "lgrows:"
_MASK = (1 << 64) - 1


@dataclass(slots=True)
class Scan:
    """The keys of every row, by rowid: what a later read of the grown file compares with.

    ``state`` names the rows read (``lgrows:<checkpoints>:<writes>:<sum>``, a sum of a hash
    of each row's rowid and key, so it is the same whatever order they are scanned in);
    ``kept`` is that sum over the rows at or below ``upto`` alone, the rows an earlier read
    saw: equal to its state when none of them went (``delete_thread``, a write replaced by
    ``INSERT OR REPLACE``: the row gets a new rowid) and none was put in their place.
    """

    state: str
    kept: str
    max_rowids: tuple[int, int]
    newer: set[str]  # threads with a row above ``upto``


# A row's hash: crc32 and adler32 of its key's values as ``str``, joined by "\x1f" (an
# f-string formats each value as ``str`` does, in half the time of a join of a map; a
# whole read hashes every row of the file). The states stored by earlier reads use it.
def _hash_checkpoint(row: tuple[Any, ...]) -> int:
    rowid, thread, ns, cid = row
    key = f"{rowid}\x1f{thread}\x1f{ns}\x1f{cid}".encode()
    return _crc32(key) << 32 | _adler32(key)


def _hash_write(row: tuple[Any, ...]) -> int:
    rowid, thread, ns, cid, task, idx = row
    key = f"{rowid}\x1f{thread}\x1f{ns}\x1f{cid}\x1f{task}\x1f{idx}".encode()
    return _crc32(key) << 32 | _adler32(key)


_crc32, _adler32 = zlib.crc32, zlib.adler32
_TABLE_HASHES = (_hash_checkpoint, _hash_write)


SCAN_QUERIES = (
    "SELECT rowid, thread_id, checkpoint_ns, checkpoint_id FROM checkpoints",
    "SELECT rowid, thread_id, checkpoint_ns, checkpoint_id, task_id, idx FROM writes",
)


def scan(db: sqlite3.Connection, upto: tuple[int, int] = (0, 0)) -> Scan:
    """The rows' keys (the tables' primary-key indexes, no blob is read)."""
    return scan_keys([db.execute(query) for query in SCAN_QUERIES], upto)


def scan_keys(tables: list[Iterable[tuple[Any, ...]]], upto: tuple[int, int] = (0, 0)) -> Scan:
    """``Scan`` of the key rows of each table (SCAN_QUERIES' columns, in any order)."""
    counts, kept_counts, sums, kept_sums, tops = [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]
    newer: set[str] = set()
    for table, keys in enumerate(tables):
        limit = upto[table]
        hash_of = _TABLE_HASHES[table]
        if limit <= 0:  # a first read: every row is new (no rowid is below 1)
            keys = keys if isinstance(keys, list) else list(keys)
            counts[table] = len(keys)
            sums[table] = sum(map(hash_of, keys))
            tops[table] = max((row[0] for row in keys), default=0)
            newer.update({str(row[1]) for row in keys})
            continue
        for row in keys:
            value = hash_of(row)
            counts[table] += 1
            sums[table] += value
            rowid = row[0]
            tops[table] = max(tops[table], rowid)
            if rowid <= limit:
                kept_counts[table] += 1
                kept_sums[table] += value
            else:
                newer.add(str(row[1]))

    def name(n: list[int], total: list[int]) -> str:
        return f"{STATE}{n[0]}:{n[1]}:{(total[0] * 3 + total[1]) & _MASK:016x}"

    return Scan(name(counts, sums), name(kept_counts, kept_sums), (tops[0], tops[1]), newer)


def read_rows(path: Path, threads: set[str] | None = None) -> Rows:
    """Every checkpoint and write (of ``threads`` only, when given), oldest id first within
    each thread and namespace. Raises sqlite3.Error."""
    with closing(connect_read_only(path)) as db:
        db.execute("BEGIN")  # one read transaction: checkpoints and writes of one moment
        rows = select_rows(db, threads)
        if threads is None:  # every row's key is in the rows read: no second pass over the tables
            checkpoint_keys = [row[:4] for row in rows.checkpoints]
            write_keys = [(*row[:5], row[6]) for row in rows.writes]  # task_path (5) is no key
            rows.scan = scan_keys([checkpoint_keys, write_keys])
        else:
            rows.scan = scan(db)
        db.execute("COMMIT")
    return rows


def select_rows(db: sqlite3.Connection, threads: set[str] | None = None) -> Rows:
    rows = Rows()
    rows.has_task_path = "task_path" in _columns(db, "writes")
    task_path = "task_path" if rows.has_task_path else "''"
    where, args = "", ()
    if threads is not None:
        where, args = f" WHERE thread_id IN ({','.join('?' * len(threads))})", tuple(sorted(threads))
    rows.checkpoints = db.execute(
        CHECKPOINT_SELECT + where + " ORDER BY thread_id, checkpoint_ns, checkpoint_id", args
    ).fetchall()
    rows.writes = db.execute(
        "SELECT rowid, thread_id, checkpoint_ns, checkpoint_id, task_id, "
        f"{task_path}, idx, channel, type, value FROM writes{where}"
        " ORDER BY thread_id, checkpoint_ns, checkpoint_id, task_id, idx",
        args,
    ).fetchall()
    return rows


def rows_changed_since(path: Path, state: str, upto: tuple[int, int]) -> Rows | None:
    """The rows of the threads with a row newer than ``upto`` (the highest rowids the read
    that left ``state`` saw), with ``scan`` set; no thread when nothing changed. None when a
    row that read saw is gone or was replaced in place: only a whole read can tell what."""
    with closing(connect_read_only(path)) as db:
        db.execute("BEGIN")
        found = scan(db, upto)
        if found.kept != state:
            return None
        rows = select_rows(db, found.newer) if found.newer else Rows()
        rows.scan = found
        db.execute("COMMIT")
    return rows

"""langgraph-checkpoint-sqlite databases (SqliteSaver / AsyncSqliteSaver, lgcs 1.x to 3.x):
one run per thread of the file, every checkpoint of every namespace with its parent, and the
thread's model calls, tool calls, errors and interrupts as events.

Thread ids are the user's (``"1"`` in many files), so a run is the thread of one database:
its native id is ``<thread_id>@<database path>``.
"""

from __future__ import annotations

import sqlite3
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from core import ids
from core.outcomes import FileOutcome, KnownFile
from core.record_values import check_values
from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.langgraph.database import STATE, Rows, looks_like_langgraph, read_rows, rows_changed_since
from ingest.parsers.langgraph.thread import FRAMEWORK, ThreadBuilder
from ingest.spec import FormatSpec

NAME = "langgraph.checkpoints"


def detect(content: Content) -> bool:
    return content.kind == "sqlite" and looks_like_langgraph(content.path)


def run_native_id(thread_id: str, path: str) -> str:
    return f"{thread_id}@{path}"


def parse(content: Content) -> ParsedFile:
    try:
        rows = read_rows(content.path)
    except sqlite3.Error as exc:
        raise ParseError(content.path, f"cannot read the LangGraph checkpoint database: {exc}") from None
    return parse_rows(content.path, rows)


def parse_rows(source: Path, rows: Rows) -> ParsedFile:
    """The threads of ``rows`` (all of the file's, or those a re-read selected)."""
    parsed = ParsedFile(format=NAME)
    path = str(source.resolve())
    if rows.scan is not None:
        parsed.read_state = (rows.scan.state, *rows.scan.max_rowids)
    writes_by_thread: dict[str, dict[tuple[str, str], list[tuple]]] = {}
    for write in rows.writes:
        writes_by_thread.setdefault(str(write[1]), {}).setdefault((write[2], write[3]), []).append(write)
    for thread_id, thread_rows in groupby(rows.checkpoints, key=itemgetter(1)):
        thread = str(thread_id)
        builder = ThreadBuilder(run_native_id(thread, path), thread, path)
        thread_writes = writes_by_thread.pop(thread, {})
        for namespace, ns_rows in groupby(thread_rows, key=itemgetter(2)):
            ns = str(namespace or "")
            by_checkpoint = {cid: w for (wns, cid), w in thread_writes.items() if wns == namespace}
            builder.add_namespace(ns, list(ns_rows), by_checkpoint)
        parsed.runs.append(builder.build())
        parsed.checkpoints += builder.checkpoints
        parsed.events += builder.events
    for thread in writes_by_thread:  # writes of a thread whose checkpoints are gone
        parsed.warnings.append(f"{source}: thread {thread!r} has writes but no checkpoint; skipped")
    return parsed


def reread(path: str, known: KnownFile, size: int, mtime_ns: int) -> FileOutcome | None:
    """A database loaded before, grown: only its threads with new rows are read (a saver
    inserts rows, and a row it replaces gets a new rowid), and their runs replace the
    file's earlier records of them; the other threads' records stay as stored. None (read
    it whole) when a row seen before is gone or replaced in place (``delete_thread``, a
    write stored again), or when the last read left no rows state."""
    if not (known.content_hash or "").startswith(STATE):
        return None
    source = Path(path)
    rows = rows_changed_since(source, known.content_hash or "", (known.read_offset, known.line_count))
    if rows is None or rows.scan is None:
        return None
    base = {"path": path, "size": size, "mtime_ns": mtime_ns, "format": NAME, "framework": FRAMEWORK}
    # No new row (a -wal folded into the file; a VACUUM renumbers rowids: a whole read): nothing is replaced, and the new
    # size and mtime are stored, so the next re-ingest is a stat again.
    parsed = check_values(parse_rows(source, rows)) if rows.scan.newer else ParsedFile(format=NAME)
    resolved = str(source.resolve())
    return FileOutcome(
        outcome="loaded",
        content_hash=rows.scan.state,
        parsed=parsed,
        warnings=parsed.warnings[:50],
        read_offset=rows.scan.max_rowids[0],
        line_count=rows.scan.max_rowids[1],
        replaces_runs=[ids.run_id(FRAMEWORK, run_native_id(t, resolved)) for t in sorted(rows.scan.newer)],
        **base,
    )


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="LangGraph SqliteSaver / AsyncSqliteSaver checkpoint database (tables checkpoints, writes)",
    detect=detect,
    parse=parse,
    reread=reread,
)

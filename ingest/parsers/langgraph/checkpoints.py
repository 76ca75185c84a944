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

from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.langgraph.database import looks_like_langgraph, read_rows
from ingest.parsers.langgraph.thread import FRAMEWORK, ThreadBuilder
from ingest.spec import FormatSpec

NAME = "langgraph.checkpoints"


def detect(content: Content) -> bool:
    return content.kind == "sqlite" and looks_like_langgraph(content.path)


def run_native_id(thread_id: str, path: str) -> str:
    return f"{thread_id}@{path}"


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format=NAME)
    path = str(content.path.resolve())
    try:
        rows = read_rows(content.path)
    except sqlite3.Error as exc:
        raise ParseError(content.path, f"cannot read the LangGraph checkpoint database: {exc}") from None
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
        parsed.warnings.append(f"{content.path}: thread {thread!r} has writes but no checkpoint; skipped")
    return parsed


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="LangGraph SqliteSaver / AsyncSqliteSaver checkpoint database (tables checkpoints, writes)",
    detect=detect,
    parse=parse,
)

"""loopengt 0.1.0 SQLite trace store: ``.loopengt/traces.db``, table ``events`` (``SQLiteTraceStore``).

Only the base event columns exist here (no token, attempt or step/tool error columns);
``data`` and ``metadata`` are JSON text. The database is opened read-only and never
modified. A SQLite file without an ``events`` table of this shape is not ours (another
format may claim it); one that cannot be read at all fails with SQLite's reason.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from core.records import EventRecord, ParsedFile
from ingest.content import Content, connect_read_only
from ingest.errors import ParseError
from ingest.parsers.loopengt.common import FRAMEWORK, event_record, run_from_events, text
from ingest.spec import FormatSpec

REQUIRED_COLUMNS = frozenset({"event_id", "run_id", "event_type", "timestamp", "data"})
OPTIONAL_COLUMNS = tuple(
    ["step_name", "agent_name", "tool_name", "turn", "duration_seconds", "parent_event_id", "metadata"]
)
JSON_COLUMNS = ("data", "metadata")


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect_read_only(path)
    connection.text_factory = lambda raw: raw.decode("utf-8", "replace")  # one bad row must not fail the file
    try:
        yield connection
    finally:
        connection.close()


def _columns(connection: sqlite3.Connection) -> set[str]:
    return {row[1] for row in connection.execute("PRAGMA table_info(events)")}


def detect(content: Content) -> bool:
    """True for a loopengt trace store. A SQLite file too damaged to open is left to the
    loader, which records it as failed (ingest.content.sqlite_problem)."""
    if content.kind != "sqlite":
        return False
    try:
        with _connect(content.path) as connection:
            return _columns(connection) >= REQUIRED_COLUMNS
    except sqlite3.DatabaseError:
        return False


def _text_of(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def _rows(connection: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    present = _columns(connection)
    columns = sorted(REQUIRED_COLUMNS) + [name for name in OPTIONAL_COLUMNS if name in present]
    select = ", ".join(f'"{name}"' for name in columns)
    try:
        cursor = connection.execute(f"SELECT {select} FROM events ORDER BY timestamp, rowid")
    except sqlite3.OperationalError:  # a WITHOUT ROWID table
        cursor = connection.execute(f"SELECT {select} FROM events ORDER BY timestamp")
    for row in cursor:
        # SQLite columns take any type: a BLOB becomes text so that it can be stored as JSON.
        yield {name: _text_of(value) for name, value in zip(columns, row, strict=True)}


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format="loopengt.tracedb")
    by_run: dict[str, list[EventRecord]] = {}
    skipped = 0
    try:
        with _connect(content.path) as connection:
            for row in _rows(connection):
                run_id = text(row["run_id"])
                if run_id is None or text(row["event_type"]) is None:
                    skipped += 1
                    continue
                for name in JSON_COLUMNS:
                    if name in row:
                        row[name] = _decode(row[name])
                event = event_record(row, run_id)
                by_run.setdefault(run_id, []).append(event)
                parsed.events.append(event)
    except sqlite3.DatabaseError as exc:
        raise ParseError(content.path, f"cannot read this SQLite database: {exc}") from None
    if skipped:
        parsed.warnings.append(f"{content.path}: {skipped} event row(s) without run_id or event_type skipped")
    parsed.runs = [run_from_events(run_id, events) for run_id, events in by_run.items()]
    return parsed


FORMAT = FormatSpec(
    name="loopengt.tracedb",
    framework=FRAMEWORK,
    description="loopengt 0.1.0 SQLite trace store (.loopengt/traces.db, table events)",
    detect=detect,
    parse=parse,
)

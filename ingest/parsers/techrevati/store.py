"""techrevati-runtime 0.4 SQLite stores, opened read-only.

Recognised by the package's ``techrevati_runtime_metadata`` table, or by one of its tables
with exactly the package's columns; any other database is not ours. Tables:

* ``agent_events`` (payload = ``AgentEvent.to_json()``) and ``usage_records`` are read as one
  stream in time order and grouped like any event stream
  (:mod:`ingest.parsers.techrevati.stream`), with ``<table>:<id>`` as event ids;
* ``audit_log`` rows become that stream only when the file has neither of those tables
  (the same sink would otherwise count twice); its hash chain is verified either way;
* ``checkpoints`` (one per successful turn of ``session(thread_id=…)``, ``parent_id`` never
  set by the session) make the run ``<file>#thread=<thread_id>``, chained by creation
  time; ``checkpoint_steps`` (named states the caller put) are ``checkpoint`` events of it.
  When the file holds one thread and its stream forms one run, both are one session's
  state and the thread joins the stream's run (the crash-and-resume layout), whose id is
  the session's as in any other source of its events (``common.session_run_id``).

A checkpoint is written after a turn succeeded and never at the end of a session, so its
run status is ``running`` (inferred); ``metadata.status`` is kept as ``native_status``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import orjson

from core.records import CheckpointRecord, EventRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content, connect_read_only
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import FRAMEWORK, chain_state, is_agent_event
from ingest.parsers.techrevati.stream import GROUPING_RULE, group_records, group_stream
from ingest.spec import FormatSpec

NAME = "techrevati.store"
METADATA = "techrevati_runtime_metadata"
COLUMNS = {
    "agent_events": {"id", "emitted_at", "event", "role", "phase", "payload"},
    "usage_records": {"id", "recorded_at", "model", "cost_usd", "snapshot"},
    "checkpoints": {"id", "thread_id", "created_at", "state_json", "parent_id", "metadata_json"},
    "checkpoint_steps": {"thread_id", "step_key", "created_at", "state_json"},
    "audit_log": {"sequence", "timestamp", "event_type", "payload", "prev_hash", "record_hash", "signature"},
}


def _tables(connection: sqlite3.Connection) -> set[str]:
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    ours = {
        name
        for name in names & COLUMNS.keys()
        if {row[1] for row in connection.execute(f"PRAGMA table_info({name})")} >= COLUMNS[name]
    }
    return ours | (names & {METADATA})


def detect(content: Content) -> bool:
    if content.kind != "sqlite":
        return False
    try:
        connection = connect_read_only(content.path)
        try:
            tables = _tables(connection)
        finally:
            connection.close()
    except sqlite3.Error:
        return False  # unreadable before any table could be seen: nothing says it is ours
    return METADATA in tables or bool(tables - {"checkpoints"})


def _json(text: Any, what: str) -> Any:
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None


def _stream(
    connection: sqlite3.Connection, tables: set[str], warnings: list[str], where: str
) -> list[tuple[str, dict[str, Any], Any]]:
    timed: list[tuple[str, int, str, dict[str, Any]]] = []
    if "agent_events" in tables:
        for row_id, emitted_at, payload in connection.execute(
            "SELECT id, emitted_at, payload FROM agent_events ORDER BY id"
        ):
            event = _json(payload, f"agent_events row {row_id}")
            if not is_agent_event(event):
                warnings.append(f"{where}: agent_events row {row_id} is not an AgentEvent; skipped")
                continue
            timed.append((str(emitted_at), row_id, f"agent_events:{row_id}", event))
    if "usage_records" in tables:
        for row_id, recorded_at, model, cost, snapshot in connection.execute(
            "SELECT id, recorded_at, model, cost_usd, snapshot FROM usage_records ORDER BY id"
        ):
            record = {
                "recorded_at": recorded_at,
                "model": model,
                "cost_usd": cost,
                "usage": _json(snapshot, f"usage_records row {row_id}"),
            }
            timed.append((str(recorded_at), row_id, f"usage_records:{row_id}", record))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [(native_id, value, None) for _, _, native_id, value in timed]


def _audit(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        "SELECT sequence, timestamp, event_type, payload, prev_hash, record_hash, signature "
        "FROM audit_log ORDER BY sequence"
    ).fetchall()
    keys = ("sequence", "timestamp", "event_type", "payload", "prev_hash", "record_hash", "signature")
    records = [dict(zip(keys, row, strict=True)) for row in rows]
    for record in records:
        record["payload"] = _json(record["payload"], f"audit_log row {record['sequence']}")
    return records


def _checkpoints(
    connection: sqlite3.Connection, run_of: Callable[[str], str]
) -> dict[str, list[CheckpointRecord]]:
    threads: dict[str, list[CheckpointRecord]] = {}
    rows = connection.execute(
        "SELECT id, thread_id, created_at, state_json, parent_id, metadata_json "
        "FROM checkpoints ORDER BY thread_id, created_at, id"
    ).fetchall()
    for cp_id, thread, created_at, state_json, parent, metadata_json in rows:
        state = _json(state_json, f"checkpoints row {cp_id}")
        metadata = _json(metadata_json, f"checkpoints row {cp_id}")
        chain = threads.setdefault(thread, [])
        key = metadata.get("idempotency_key") if isinstance(metadata, dict) else None
        done = [c.attributes.get("idempotency_key") for c in chain if c.attributes.get("idempotency_key")]
        chain.append(
            CheckpointRecord(
                framework=FRAMEWORK,
                run_native_id=run_of(thread),
                native_id=cp_id,
                document={
                    "id": cp_id,
                    "thread_id": thread,
                    "created_at": created_at,
                    "state": state,
                    "parent_id": parent,
                    "metadata": metadata,
                },
                parent_native_id=parent or None,
                status="running",
                step=len(chain) + 1,
                created_at=parse_timestamp(created_at),
                completed_steps=done + ([key] if key else []),
                summary=f"turn {len(chain) + 1}" + (f" ({key})" if key else ""),
                attributes={
                    "thread_id": thread,
                    "native_status": metadata.get("status") if isinstance(metadata, dict) else None,
                }
                | ({"idempotency_key": key} if key else {})
                | (
                    {"model": metadata["model"]} if isinstance(metadata, dict) and "model" in metadata else {}
                ),
                inferred=["status"],
                chain_key=f"thread={thread}",
            )
        )
    return threads


def _steps(connection: sqlite3.Connection, run_of: Callable[[str], str]) -> list[EventRecord]:
    rows = connection.execute(
        "SELECT thread_id, step_key, created_at, state_json FROM checkpoint_steps "
        "ORDER BY thread_id, created_at"
    )
    return [
        EventRecord(
            framework=FRAMEWORK,
            run_native_id=run_of(thread),
            kind="checkpoint",
            name="checkpoint_step",
            native_id=f"checkpoint_steps:{step_key}",
            at=parse_timestamp(created_at),
            data={"step_key": step_key, "state": _json(state, f"checkpoint_steps {step_key!r}")},
        )
        for thread, step_key, created_at, state in rows
    ]


def _read(connection: sqlite3.Connection, prefix: str) -> ParsedFile:
    parsed = ParsedFile(format=NAME)
    tables = _tables(connection)
    audit = _audit(connection) if "audit_log" in tables else []
    if "agent_events" in tables or "usage_records" in tables:
        items = _stream(connection, tables, parsed.warnings, prefix)
    else:
        items = [
            (f"audit:{r['sequence']}", r["payload"], r["timestamp"])
            for r in audit
            if isinstance(r["payload"], dict)
        ]
    thread_ids = (
        [row[0] for row in connection.execute("SELECT DISTINCT thread_id FROM checkpoints")]
        if "checkpoints" in tables
        else []
    )
    groups = group_stream(items, warnings=parsed.warnings)
    joined = len(thread_ids) == 1 and len(groups) == 1 and groups[0].key is not None
    audit_chain = chain_state(audit) if audit else None  # re-hashes every audit row: once per file
    joined_run: str | None = None
    for group in groups:
        rule = GROUPING_RULE
        if joined:
            rule += (
                " This database holds one checkpoint thread and one event run: they are one session's"
                " state and form one run."
            )
        run, events = group_records(prefix, group, rule)
        if joined:
            joined_run = run.native_id
            run.attributes["thread_id"] = thread_ids[0]
        if audit_chain is not None:
            run.attributes["audit_chain"] = audit_chain
        parsed.runs.append(run)
        parsed.events.extend(events)

    def run_of(thread: str) -> str:
        return joined_run or f"{prefix}#thread={thread}"

    threads = _checkpoints(connection, run_of) if "checkpoints" in tables else {}
    steps = _steps(connection, run_of) if "checkpoint_steps" in tables else []
    for thread, chain in threads.items():
        if not joined:
            parsed.runs.append(
                RunRecord(
                    framework=FRAMEWORK,
                    native_id=f"{prefix}#thread={thread}",
                    status="running",
                    inferred=["status"],
                    as_of=chain[-1].created_at,
                    started_at=chain[0].created_at,
                    ended_at=chain[-1].created_at,
                    attributes={
                        "grouping_rule": "checkpoints of one thread_id in one database form one run",
                        "source": prefix,
                        "thread_id": thread,
                    },
                )
            )
        parsed.checkpoints.extend(chain)
    parsed.events.extend(steps)
    if audit_chain is not None and not audit_chain["verified"]:
        parsed.warnings.append(
            f"{prefix}: audit hash chain does not verify at sequence {audit_chain['first_bad_sequence']}"
        )
    return parsed


def parse(content: Content) -> ParsedFile:
    try:
        connection = connect_read_only(content.path)
        try:
            return _read(connection, str(content.path))
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise ParseError(content.path, f"cannot read the techrevati SQLite store: {exc}") from None
    except ValueError as exc:
        raise ParseError(content.path, str(exc)) from None


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime 0.4 SQLite stores (events, usage, checkpoints, audit log)",
    detect=detect,
    parse=parse,
)

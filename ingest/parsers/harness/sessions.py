"""react-agent-harness 0.14 chat sessions: the ``SQLiteSessionStore`` of a PersistentAgent
(tables ``sessions`` and ``session_messages``), opened read-only.

A session is a conversation resumed by calling ``chat(..., session_id=...)`` again; there is
no checkpoint. Each session becomes one run ``session:<session_id>`` with its messages as
events. A failed turn stores ``ERROR: <text>`` as the answer: when the last answer is one,
the run is failed with that text, otherwise completed (both inferred: a session has no
status of its own). ``last_usage_json`` holds one turn's usage, so it is kept as an
attribute; the run's tokens are the session totals.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from core.records import EventRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content, connect_read_only
from ingest.errors import ParseError
from ingest.parsers.harness import common as hc
from ingest.spec import FormatSpec

TABLES = {"sessions", "session_messages"}
ERROR_PREFIX = "ERROR: "


def detect(content: Content) -> bool:
    if content.kind != "sqlite":
        return False
    try:
        with closing(connect_read_only(content.path)) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return names >= TABLES
    except sqlite3.Error:  # unreadable: claim it only if its schema page names our tables
        try:
            with open(content.path, "rb") as handle:
                head = handle.read(65536)
        except OSError:
            return False
        return b"CREATE TABLE session_messages" in head and b"CREATE TABLE sessions" in head


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return text


def _read(path: Path) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    try:
        with closing(connect_read_only(path)) as db:
            db.row_factory = sqlite3.Row
            sessions = db.execute("SELECT * FROM sessions ORDER BY session_id").fetchall()
            messages = db.execute(
                "SELECT id, session_id, role, content_json, created_at FROM session_messages ORDER BY id"
            ).fetchall()
    except sqlite3.Error as exc:
        raise ParseError(path, f"cannot read the harness session store: {exc}") from None
    return sessions, messages


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format="harness.sessions")
    sessions, messages = _read(content.path)
    by_session: dict[str, list[sqlite3.Row]] = {}
    for message in messages:
        by_session.setdefault(str(message["session_id"]), []).append(message)
    for row in sessions:
        session_id = str(row["session_id"])
        run_id = f"session:{session_id}"
        columns = set(row.keys())
        run = RunRecord(
            framework=hc.FRAMEWORK,
            native_id=run_id,
            inferred=["status"],
            input_tokens=hc.as_int(row["tokens_in_total"]) if "tokens_in_total" in columns else None,
            output_tokens=hc.as_int(row["tokens_out_total"]) if "tokens_out_total" in columns else None,
            ended_at=parse_timestamp(row["updated_at"]) if "updated_at" in columns else None,
        )
        run.attributes = {
            name: row[name]
            for name in (
                "summary",
                "turn_count",
                "last_reconcile_turn",
                "last_compact_turn",
                "last_run_tokens_in",
                "last_run_tokens_out",
                "plan_mode_enabled",
            )
            if name in columns
        }
        run.attributes.update(
            session_id=session_id,
            last_usage=_json(row["last_usage_json"]) if "last_usage_json" in columns else None,
            model_overrides=_json(row["model_overrides_json"]) if "model_overrides_json" in columns else None,
        )
        last_answer = None
        for message in by_session.get(session_id, []):
            text = _json(message["content_json"])
            at = parse_timestamp(message["created_at"])
            failed = (
                message["role"] == "assistant" and isinstance(text, str) and text.startswith(ERROR_PREFIX)
            )
            parsed.events.append(
                EventRecord(
                    framework=hc.FRAMEWORK,
                    run_native_id=run_id,
                    native_id=f"{run_id}:message:{message['id']}",
                    kind="error" if failed else "step",
                    name=f"{message['role']}_message",
                    at=at,
                    error=text[len(ERROR_PREFIX) :] if failed else None,
                    data={"role": message["role"], "content": text},
                )
            )
            run.started_at = run.started_at or at
            if run.task is None and message["role"] == "user" and isinstance(text, str):
                run.task = text
            if message["role"] == "assistant":
                last_answer = text
        failed = isinstance(last_answer, str) and last_answer.startswith(ERROR_PREFIX)
        run.status = "failed" if failed else "completed" if last_answer is not None else "unknown"
        run.failure_reason = last_answer[len(ERROR_PREFIX) :] if failed else None
        if failed:
            run.failure_signals = {"answer": last_answer}
        run.attributes[hc.STATUS_BASIS] = "the last answer of the session" + (
            " is an ERROR" if failed else ""
        )
        parsed.runs.append(run)
    return parsed


FORMAT = FormatSpec(
    name="harness.sessions",
    framework=hc.FRAMEWORK,
    description="react-agent-harness 0.14 SQLite session store (sessions, session_messages)",
    detect=detect,
    parse=parse,
)

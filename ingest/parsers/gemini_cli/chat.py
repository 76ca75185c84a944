"""Gemini CLI chats: ``~/.gemini/tmp/<project>/chats/session-<time>-<id8>.json`` (one JSON
document, until April 2026) and ``.jsonl`` (records streamed and re-appended, gemini-cli PR
#23749); subagents in ``chats/<parentSessionId>/<sessionId>.jsonl`` with ``kind: subagent``.

One run per ``sessionId``. Messages (``chatRecordingTypes.ts``): ``user``, ``gemini`` (model,
``tokens{input, output, cached, thoughts, tool, total}``, ``toolCalls[]``), ``info``,
``warning``, ``error``. Tokens per ``gemini`` message: ``input`` includes ``cached``; tool-use
prompt tokens are input too and thoughts are billed as output, so ``total`` = input + output.
Checkpoints: one per user prompt, each the child of the prompt before it in the live chat;
a prompt written after a ``$rewindTo`` is a child of the prompt before the rewound one, a
fork. How it ended: an ``error`` last -> failed (its text kept); a cancelled request last ->
paused; a ``gemini`` reply last -> completed (inferred). Unknown records and message types
are kept raw. Whole files are read (a re-appended id or a rewind changes earlier records).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from core.records import CheckpointRecord, EventRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content, line_values
from ingest.parsers.gemini_cli.conversation import Conversation, from_document
from ingest.spec import FormatSpec

FRAMEWORK = "gemini_cli"
META_KEYS = ("projectHash", "startTime", "lastUpdated")
CANCELLED = re.compile(r"request cancelled|cancelled by (?:the )?user|operation cancelled", re.I)
_RESET = re.compile(r"(?:retry|try again|resets?) (?:in|after|at) ([^.,;\n]{1,40})", re.I)


def detect_json(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("sessionId"), str)
        and isinstance(doc.get("messages"), list)
        and any(k in doc for k in META_KEYS)
    )


def detect_jsonl(content: Content) -> bool:
    first = content.first_value if content.kind == "jsonl" else None
    return (
        isinstance(first, dict)
        and isinstance(first.get("sessionId"), str)
        and any(k in first for k in META_KEYS)
        and "messages" not in first
    )


def text_of(content: Any) -> str | None:
    """A message's text: a string, or the ``text`` of its parts."""
    if isinstance(content, str):
        return content.strip() or None
    if isinstance(content, list):
        joined = "\n".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
        return joined.strip() or None
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"].strip() or None
    return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _message_events(run_id: str, message: dict[str, Any], number: int, rewound: bool) -> list[EventRecord]:
    kind, at = message["type"], parse_timestamp(message.get("timestamp"))
    native = message["id"]
    data = message | {"rewound": True} if rewound else message
    if kind == "gemini":
        tokens = message.get("tokens") if isinstance(message.get("tokens"), dict) else None
        event = EventRecord(FRAMEWORK, run_id, "llm_call", "gemini", native_id=native, at=at, data=data)
        event.model = message.get("model") if isinstance(message.get("model"), str) else None
        if tokens is not None:
            event.input_tokens = _count(tokens.get("input")) + _count(tokens.get("tool"))
            event.cache_read_tokens = _count(tokens.get("cached"))
            event.output_tokens = _count(tokens.get("output")) + _count(tokens.get("thoughts"))
        events = [event]
        for index, call in enumerate(message.get("toolCalls") or []):
            if not isinstance(call, dict):
                continue
            status = call.get("status")
            error = None
            if status in ("error", "cancelled"):
                error = text_of(call.get("resultDisplay")) or f"tool call {status}"
            events.append(
                EventRecord(
                    FRAMEWORK,
                    run_id,
                    "tool_call",
                    "tool_call",
                    native_id=f"{native}:tool:{call.get('id') or index}",
                    parent_native_id=native,
                    at=parse_timestamp(call.get("timestamp")) or at,
                    tool=call.get("name") if isinstance(call.get("name"), str) else None,
                    error=error,
                    data=call,
                )
            )
        return events
    event_kind = {"user": "step", "error": "error", "info": "lifecycle", "warning": "lifecycle"}.get(
        kind, "custom"
    )
    error = text_of(message.get("content")) or "error" if kind == "error" else None
    return [EventRecord(FRAMEWORK, run_id, event_kind, kind, native_id=native, at=at, error=error, data=data)]


def _ending(messages: list[dict[str, Any]]) -> tuple[str | None, str | None, dict[str, Any], bool]:
    """(status, reason, signals, inferred) from the last message that says something."""
    for message in reversed(messages):
        kind, body = message["type"], text_of(message.get("content"))
        if kind == "error":
            signals: dict[str, Any] = {"error_message": True}
            reset = _RESET.search(body or "")
            if reset:
                signals["resets"] = reset.group(1).strip()
            return "failed", body or "error", signals, False
        if kind == "info" and body and CANCELLED.search(body):
            return "paused", body, {"cancelled": True}, False
        if kind == "gemini":
            calls = [c for c in message.get("toolCalls") or [] if isinstance(c, dict)]
            if calls and calls[-1].get("status") == "cancelled":
                return "paused", f"tool call {calls[-1].get('name')} cancelled", {"cancelled": True}, False
            return "completed", None, {}, True
        if kind == "user":
            return None, None, {}, False
    return None, None, {}, False


def _checkpoints(run_id: str, conversation: Conversation) -> list[CheckpointRecord]:
    """Live prompts chain in order; each rewind's dropped prompts chain from the prompt
    before the rewound message, so the prompt written after the rewind forks there."""
    latest_user: dict[str, str | None] = {}  # message id -> the last prompt at or before it
    previous: str | None = None
    for message_id, message in conversation.messages.items():
        if message["type"] == "user":
            previous = message_id
        latest_user[message_id] = previous
    chain: list[tuple[dict[str, Any], str | None, bool]] = []
    last_live: str | None = None
    for message in conversation.messages.values():
        if message["type"] == "user":
            chain.append((message, last_live, False))
            last_live = message["id"]
    group: tuple[str | None, str | None] = ("", None)  # (before, last dropped prompt)
    for message, _, before in conversation.rewound:
        if message["type"] != "user":
            continue
        parent = group[1] if group[0] == before else (latest_user.get(before) if before else None)
        chain.append((message, parent, True))
        group = (before, message["id"])
    records = []
    for message, parent, rewound in chain:
        prompt = text_of(message.get("content")) or text_of(message.get("displayContent"))
        records.append(
            CheckpointRecord(
                FRAMEWORK,
                run_id,
                message["id"],
                message,
                parent_native_id=parent,
                created_at=parse_timestamp(message.get("timestamp")),
                summary=prompt[:500] if prompt else None,
                attributes={"rewound": True} if rewound else {},
            )
        )
    return records


def _parse(content: Content, conversation: Conversation, layout: str) -> ParsedFile:
    parsed = ParsedFile(format=f"gemini_cli.{layout}")
    meta = conversation.metadata
    run_id = meta.get("sessionId")
    if not isinstance(run_id, str) or not run_id:
        parsed.warnings.append(f"{content.name}: no sessionId record: no run to record")
        return parsed
    live = list(conversation.messages.values())
    for message_id, message in conversation.messages.items():
        parsed.events += _message_events(run_id, message, conversation.lines.get(message_id, 0), False)
    for message, number, _ in conversation.rewound:
        parsed.events += _message_events(run_id, message, number, True)
    for number, value in conversation.others:
        parsed.events.append(
            EventRecord(FRAMEWORK, run_id, "custom", "unknown_record", native_id=f"L{number}", data=value)
        )
    parsed.checkpoints = _checkpoints(run_id, conversation)
    status, reason, signals, inferred = _ending(live)
    models = [m["model"] for m in live if m["type"] == "gemini" and isinstance(m.get("model"), str)]
    prompts = [text_of(m.get("content")) for m in live if m["type"] == "user"]
    directories = meta.get("directories") if isinstance(meta.get("directories"), list) else []
    kind = meta.get("kind")
    parent = content.path.parent.name if kind == "subagent" and content.path.parent.name != "chats" else None
    times = [t for t in (parse_timestamp(m.get("timestamp")) for m in live) if t]
    attributes = {
        key: value
        for key, value in {
            "project_hash": meta.get("projectHash"),
            "cwd": directories[0] if directories and isinstance(directories[0], str) else None,
            "directories": directories or None,
            "kind": kind,
            "summary": meta.get("summary"),
            "model": models[-1] if models else None,
            "models": list(dict.fromkeys(models)) or None,
            "parent_native_id": parent,
            "layout": layout,
            "rewound_messages": len(conversation.rewound) or None,
        }.items()
        if value is not None
    }
    if parent:
        from core.ids import run_id as baton_run_id

        attributes["parent_run_id"] = baton_run_id(FRAMEWORK, parent)
        attributes["parent_kind"] = "subagent"
    ended: datetime | None = parse_timestamp(meta.get("lastUpdated")) or (max(times) if times else None)
    parsed.runs.append(
        RunRecord(
            FRAMEWORK,
            run_id,
            as_of=ended,
            status=status,
            task=next((p[:500] for p in prompts if p), None),
            agents=["gemini-subagent" if kind == "subagent" else "gemini"],
            started_at=parse_timestamp(meta.get("startTime")) or (min(times) if times else None),
            ended_at=ended,
            failure_reason=reason,
            failure_signals=signals,
            attributes=attributes,
            inferred=["status"] if inferred else [],
        )
    )
    return parsed


def parse_json(content: Content) -> ParsedFile:
    return _parse(content, from_document(content.json), "json")


def parse_jsonl(content: Content) -> ParsedFile:
    conversation = Conversation()
    for number, value in line_values(content):
        conversation.add(number, value)
    return _parse(content, conversation, "jsonl")


JSON_FORMAT = FormatSpec(
    name="gemini_cli.json",
    framework=FRAMEWORK,
    description="Gemini CLI chat sessions, legacy single JSON (~/.gemini/tmp/<project>/chats/session-*.json)",
    detect=detect_json,
    parse=parse_json,
)
JSONL_FORMAT = FormatSpec(
    name="gemini_cli.jsonl",
    framework=FRAMEWORK,
    description="Gemini CLI chat sessions, JSON Lines (~/.gemini/tmp/<project>/chats/session-*.jsonl)",
    detect=detect_jsonl,
    parse=parse_jsonl,
)

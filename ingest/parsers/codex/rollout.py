"""OpenAI Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``.

Every line is ``{"timestamp", "type", "payload"}`` (``codex-rs/protocol/src/protocol.rs``
``RolloutItem``); the first is a ``session_meta``. One run per rollout (``session_meta.id``);
a fork (``forked_from_id``) or spawned subagent (``source.subagent.thread_spawn``) names its
parent run in the run's attributes. Its file first replays the parent's history: those
lines, up to the first turn minted after the child (turn ids are UUIDv7, kenn-io/agentsview
#657), are counted only as the token baseline. The model is the latest ``turn_context``'s;
tokens come from ``token_count`` (``tokens.py``); how it ended from its tail (``ending.py``).
Checkpoints: one per user prompt, chained in time. Unknown line and payload types are kept
raw as ``custom`` events and never fail the file.

Tailed as it grows: new lines name the run by the file's UUID; new lines whose token counts
come before any ``turn_context`` (the model is further up) make the whole file be read.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from core.ids import run_id as baton_run_id
from core.records import CheckpointRecord, EventRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content, line_values
from ingest.parsers.codex.ending import EndingTracker
from ingest.parsers.codex.lines import (
    TOOL_CALLS,
    TOOL_OUTPUTS,
    arguments,
    message_text,
    text,
    tool_error,
    tool_name,
)
from ingest.parsers.codex.tokens import TokenCounter
from ingest.spec import FormatSpec

FRAMEWORK = "codex"
KINDS = {"session_meta", "response_item", "turn_context", "event_msg", "compacted"}
_FILE_UUID = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$", re.I)
LIFECYCLE = {
    "task_started",
    "turn_started",
    "task_complete",
    "turn_complete",
    "turn_aborted",
    "context_compacted",
}


def detect(content: Content) -> bool:
    first = content.first_value
    return (
        content.kind == "jsonl"
        and isinstance(first, dict)
        and first.get("type") in KINDS
        and isinstance(first.get("payload"), dict)
        and "timestamp" in first
        and (first["type"] != "session_meta" or isinstance(first["payload"].get("id"), str))
    )


def uuid7_time(value: Any) -> datetime | None:
    """The creation time inside a UUIDv7 (thread and turn ids), else None."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, UTC) if parsed.version == 7 else None


def parent_of(meta: dict[str, Any]) -> tuple[str | None, str | None]:
    """(parent thread id, "subagent" | "fork") as the session_meta names them."""
    source = meta.get("source")
    spawn = source.get("subagent") if isinstance(source, dict) else None
    spawn = spawn.get("thread_spawn") if isinstance(spawn, dict) else None
    if isinstance(spawn, dict) and text(spawn.get("parent_thread_id")):
        return spawn["parent_thread_id"], "subagent"
    if text(meta.get("forked_from_id")):
        return meta["forked_from_id"], "fork"
    return None, None


class _Rollout:
    def __init__(self, content: Content) -> None:
        self.whole = content.first_line == 1 and content.offset == 0
        found = None if self.whole else _FILE_UUID.search(content.name)
        self.run_id: str | None = found.group(1).lower() if found else None
        self.parsed = ParsedFile(format="codex.rollout")
        self.meta: dict[str, Any] = {}
        self.replay_until: datetime | None = None  # armed in a fork/subagent file
        self.replayed = 0
        self.model: str | None = None
        self.models: list[str] = []
        self.cwd: str | None = None
        self.turn_id: str | None = None
        self.tokens = TokenCounter()
        self.ending = EndingTracker()
        self.task: str | None = None
        self.last_at: datetime | None = None

    def event(self, number: int, kind: str, name: str, at: datetime | None, **fields: Any) -> None:
        fields.setdefault("native_id", f"L{number}")
        self.parsed.events.append(
            EventRecord(FRAMEWORK, self.run_id or "", kind, name, at=at, step=self.turn_id, **fields)
        )

    def session_meta(self, payload: dict[str, Any], at: datetime | None) -> None:
        if self.run_id is not None:
            return  # a fork's copy of its parent's meta, or the child's own repeated
        self.run_id, self.meta = str(payload["id"]), payload
        self.cwd = text(payload.get("cwd"))
        if parent_of(payload)[0]:
            self.replay_until = uuid7_time(payload["id"]) or parse_timestamp(payload.get("timestamp")) or at

    def replaying(self, kind: str, payload: dict[str, Any], at: datetime | None) -> bool:
        """Whether a line is the parent's history a fork file starts with."""
        if self.replay_until is None:
            return False
        if kind == "turn_context" or payload.get("type") in ("task_started", "turn_started"):
            minted = uuid7_time(payload.get("turn_id")) or at
            if minted is not None and minted >= self.replay_until:
                self.replay_until = None
                return False
        return True

    def line(self, number: int, value: Any) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("payload"), dict):
            self.event(number, "custom", "unknown_line", None, data=value)
            return
        kind, payload = str(value.get("type")), value["payload"]
        at = parse_timestamp(value.get("timestamp")) if isinstance(value.get("timestamp"), str) else None
        self.last_at = at or self.last_at
        if kind == "session_meta" and isinstance(payload.get("id"), str):
            self.session_meta(payload, at)
            return
        if self.replaying(kind, payload, at):
            self.replayed += 1
            if payload.get("type") == "token_count":
                self.tokens.feed(payload.get("info"), replay=True)
            return
        if kind == "turn_context":
            self.model = text(payload.get("model")) or self.model
            if self.model and self.model not in self.models:
                self.models.append(self.model)
            self.cwd = text(payload.get("cwd")) or self.cwd
            self.turn_id = text(payload.get("turn_id")) or self.turn_id
        elif kind == "event_msg":
            self.event_msg(number, payload, at, value)
        elif kind == "response_item":
            self.response_item(number, payload, at)
        elif kind == "compacted":
            self.event(number, "lifecycle", "compacted", at, data=payload)
        else:
            self.event(number, "custom", kind, at, data=value)

    def event_msg(self, number: int, payload: dict[str, Any], at: datetime | None, value: Any) -> None:
        kind = str(payload.get("type"))
        if kind in ("task_started", "turn_started"):
            self.turn_id = text(payload.get("turn_id")) or self.turn_id
            self.ending.started()
        elif kind in ("task_complete", "turn_complete"):
            self.ending.completed()
        elif kind == "turn_aborted":
            reason = text(payload.get("reason")) or "unknown"
            self.ending.aborted_turn(reason)
            self.event(number, "lifecycle", kind, at, error=f"turn aborted: {reason}", data=payload)
            return
        elif kind == "error":
            self.ending.errored(payload)
            self.event(number, "error", kind, at, error=message_text(payload) or "error", data=payload)
            return
        elif kind == "token_count":
            self.token_count(number, payload, at)
            return
        elif kind == "user_message":
            self.user_message(number, payload, at, value)
        elif kind == "thread_name_updated" and text(payload.get("thread_name")):
            self.meta = self.meta | {"thread_name": payload["thread_name"]}
        event_kind = "lifecycle" if kind in LIFECYCLE else "step" if kind.endswith("_message") else "custom"
        self.event(number, event_kind, kind, at, data=payload)

    def token_count(self, number: int, payload: dict[str, Any], at: datetime | None) -> None:
        self.ending.rate_limits(payload.get("rate_limits"))
        counted = self.tokens.feed(payload.get("info"))
        if counted is None:
            return
        if self.model is None and not self.whole:
            self.parsed.whole_file_needed = True  # the model is in a turn_context further up
        usage = counted.usage
        data = {
            "reasoning_output_tokens": usage["reasoning_output_tokens"],
            "total_tokens": usage["total_tokens"],
            "thread_total_tokens": counted.total["total_tokens"],
        }
        if counted.segment_start:
            data["segment_start"] = True  # the totals fell: a resume restarted the counter
        self.event(
            number,
            "llm_call",
            "token_count",
            at,
            native_id=counted.key,
            model=self.model,
            input_tokens=usage["input_tokens"],
            cache_read_tokens=usage["cached_input_tokens"],
            output_tokens=usage["output_tokens"],
            data=data,
        )

    def user_message(self, number: int, payload: dict[str, Any], at: datetime | None, value: Any) -> None:
        prompt = message_text(payload)
        if self.task is None and prompt and self.whole:
            self.task = prompt[:500]
        self.parsed.checkpoints.append(
            CheckpointRecord(
                FRAMEWORK,
                self.run_id or "",
                f"L{number}",
                value,
                created_at=at,
                summary=prompt[:500] if prompt else None,
                attributes={"turn_id": self.turn_id, "model": self.model, "cwd": self.cwd},
                chain_key="prompts",
            )
        )

    def response_item(self, number: int, payload: dict[str, Any], at: datetime | None) -> None:
        kind = str(payload.get("type"))
        call_id = text(payload.get("call_id"))
        if kind in TOOL_CALLS:
            self.event(
                number,
                "tool_call",
                kind,
                at,
                tool=tool_name(payload),
                data=payload | {"arguments": arguments(payload)},
            )
        elif kind in TOOL_OUTPUTS:
            error = tool_error(payload)
            self.event(number, "tool_call", kind, at, tool=call_id, error=error, data=payload)
        elif kind not in ("message", "reasoning"):  # prompts and replies are the event_msg copies
            self.event(number, "custom", f"response_item:{kind}", at, data=payload)

    def run(self) -> RunRecord:
        meta = self.meta
        parent, parent_kind = parent_of(meta)
        git = meta.get("git") if isinstance(meta.get("git"), dict) else {}
        attributes: dict[str, Any] = {
            key: value
            for key, value in {
                "cwd": self.cwd,
                "git_branch": text(git.get("branch")),
                "git_commit": text(git.get("commit_hash")),
                "repository_url": text(git.get("repository_url")),
                "cli_version": text(meta.get("cli_version")),
                "originator": text(meta.get("originator")),
                "source": meta.get("source"),
                "model_provider": text(meta.get("model_provider")),
                "thread_name": text(meta.get("thread_name")),
                "model": self.model,
                "models": self.models if self.whole else None,
                "parent_native_id": parent,
                "parent_run_id": baton_run_id(FRAMEWORK, parent) if parent else None,
                "parent_kind": parent_kind,
                "replayed_lines": self.replayed or None,
            }.items()
            if value is not None
        }
        ending = self.ending.ending()
        agent = text(meta.get("agent_nickname")) or text(meta.get("agent_role"))
        return RunRecord(
            FRAMEWORK,
            self.run_id or "",
            as_of=self.last_at,
            status=ending.status,
            task=self.task,
            agents=[agent or ("codex-subagent" if parent_kind == "subagent" else "codex")]
            if self.whole
            else [],
            started_at=parse_timestamp(meta.get("timestamp")) if self.whole else None,
            ended_at=self.last_at,
            failure_reason=ending.reason if ending.status in ("failed", "paused") else None,
            failure_signals=ending.signals,
            attributes=attributes,
            inferred=["status"] if ending.inferred else [],
        )


def parse(content: Content) -> ParsedFile:
    rollout = _Rollout(content)
    for number, value in line_values(content):
        rollout.line(number, value)
        if rollout.parsed.whole_file_needed:
            return rollout.parsed
    if rollout.run_id is None:
        rollout.parsed.whole_file_needed = not rollout.whole
        if rollout.whole:
            rollout.parsed.warnings.append(f"{content.name}: no session_meta line: no run to record")
            rollout.parsed.events.clear()
        return rollout.parsed
    for record in (*rollout.parsed.events, *rollout.parsed.checkpoints):
        record.run_native_id = rollout.run_id
    rollout.parsed.runs.append(rollout.run())
    return rollout.parsed


FORMAT = FormatSpec(
    name="codex.rollout",
    framework=FRAMEWORK,
    description="OpenAI Codex CLI rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)",
    detect=detect,
    parse=parse,
    append_only=True,
)

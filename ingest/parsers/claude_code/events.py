"""One Claude Code session as one file shows it: its model calls, tool calls, errors and
the run fragment they add up to (see ``session`` for the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.records import CheckpointRecord, EventRecord, RunRecord
from core.timeutil import parse_timestamp
from ingest.parsers.claude_code.lines import (
    QUIET_SUBTYPES,
    SYNTHETIC,
    blocks,
    brief_input,
    is_interrupt,
    number,
    preview,
    prompt_text,
    text_of,
    usage_of,
    usage_size,
)
from ingest.parsers.claude_code.status import session_status

FRAMEWORK = "claude_code"
TASK_CHARS = 2000
META = (("cwd", "cwd"), ("gitBranch", "git_branch"), ("version", "version"), ("entrypoint", "entrypoint"))


class SessionRun:
    """What one file says of one session, gathered line by line."""

    def __init__(self, session: str, file_agent: str | None) -> None:
        self.session = session
        self.file_agent = file_agent
        self.lines = 0
        self.checkpoints: list[CheckpointRecord] = []
        self._events: list[EventRecord] = []
        # key -> (size, order, line, its time, its usage): the largest copy of each response
        self._responses: dict[str, tuple[int, int, dict[str, Any], datetime | None, tuple[Any, ...]]] = {}
        self._agents: list[str] = []
        self._tool_agents: dict[str, str] = {}  # Task tool_use id -> subagent_type
        self._agent_types: dict[str, str] = {}
        self._meta: dict[str, Any] = {}
        self._task: str | None = None
        self._last: dict[str, Any] | None = None  # last user/assistant line of the main chain
        self._first: datetime | None = None
        self._end: datetime | None = None

    def time(self, line: dict[str, Any]) -> datetime | None:
        return parse_timestamp(line.get("timestamp")) if isinstance(line.get("timestamp"), str) else None

    def agent_of(self, line: dict[str, Any]) -> str:
        agent = line.get("agentId")
        if isinstance(agent, str) and agent:
            return agent
        if self.file_agent:
            return self.file_agent
        return "sidechain" if line.get("isSidechain") else "main"

    def read(self, number_: int, line: dict[str, Any], counted: bool = True) -> None:
        self.lines += 1
        stamp = line.get("timestamp")
        at = parse_timestamp(stamp) if isinstance(stamp, str) else None
        meta = self._meta
        for key, name in META:
            value = line.get(key)
            if isinstance(value, str) and value:
                meta[name] = value
        agent = self.agent_of(line)
        main = agent == "main"
        kind = line.get("type")
        if main and kind == "user" and self._task is None:
            text = prompt_text(line)
            if text is not None:
                self._task = text[:TASK_CHARS]
        if not counted:
            return
        if at is not None:
            self._first = at if self._first is None or at < self._first else self._first
            self._end = at if self._end is None or at > self._end else self._end
        if agent not in self._agents:
            self._agents.append(agent)
        if main and kind in ("user", "assistant") and not line.get("isMeta"):
            self._last = line
        if kind == "assistant":
            self._assistant(line, at, agent)
        elif kind == "user":
            self._user(line, at, agent)
        elif kind == "system":
            self._system(line, at, agent)

    def _event(
        self, kind: str, name: str, native: str, at: datetime | None, agent: str, **fields: Any
    ) -> None:
        self._events.append(
            EventRecord(
                FRAMEWORK, self.session, kind, name, native_id=native, at=at, agent_id=agent, **fields
            )
        )

    def _assistant(self, line: dict[str, Any], at: datetime | None, agent: str) -> None:
        message = line.get("message") if isinstance(line.get("message"), dict) else {}
        uuid = str(line.get("uuid"))
        if line.get("isApiErrorMessage"):
            text = text_of(message.get("content")) or "API error"
            data = {k: line[k] for k in ("error", "apiErrorStatus") if k in line}
            self._event("error", "api_error", f"line:{uuid}", at, agent, error=text, data=data or None)
        elif message.get("model") != SYNTHETIC:
            key = message.get("id") if isinstance(message.get("id"), str) else f"line:{uuid}"
            usage = usage_of(message)
            size = usage_size(usage)
            seen = self._responses.get(key)
            if seen is None or size >= seen[0]:
                order = seen[1] if seen else len(self._responses)
                self._responses[key] = (size, order, line, at, usage)
        for use in blocks(message, "tool_use"):
            tool_id = use.get("id") if isinstance(use.get("id"), str) else f"{uuid}:{use.get('name')}"
            name = use.get("name") if isinstance(use.get("name"), str) else None
            tool_input = use.get("input")
            subagent = tool_input.get("subagent_type") if isinstance(tool_input, dict) else None
            if name in ("Task", "Agent") and isinstance(subagent, str):
                self._tool_agents[tool_id] = subagent
            data = {"tool_use_id": tool_id, "input": brief_input(tool_input)}
            self._event("tool_call", "tool_use", f"tool:{tool_id}", at, agent, tool=name, data=data)

    def _user(self, line: dict[str, Any], at: datetime | None, agent: str) -> None:
        message = line.get("message") if isinstance(line.get("message"), dict) else {}
        uuid = str(line.get("uuid"))
        result_info = line.get("toolUseResult")
        for result in blocks(message, "tool_result"):
            tool_id = str(result.get("tool_use_id"))
            error = preview(result.get("content")) or "tool error" if result.get("is_error") else None
            data: dict[str, Any] = {"tool_use_id": tool_id, "is_error": bool(result.get("is_error"))}
            if isinstance(result_info, dict) and isinstance(result_info.get("agentId"), str):
                data["agent"] = result_info["agentId"]
                if tool_id in self._tool_agents:
                    self._agent_types[result_info["agentId"]] = self._tool_agents[tool_id]
            if not error:
                data["preview"] = preview(result.get("content"))
            self._event("tool_call", "tool_result", f"result:{tool_id}", at, agent, error=error, data=data)
        if is_interrupt(line) and not (self._events and self._events[-1].name == "interrupt"):
            # one interrupt writes a tool result and a notice line: one event
            text = text_of(message.get("content")) or "[Request interrupted by user]"
            self._event("lifecycle", "interrupt", f"line:{uuid}", at, agent, data={"text": preview(text)})

    def _system(self, line: dict[str, Any], at: datetime | None, agent: str) -> None:
        subtype = line.get("subtype")
        uuid = str(line.get("uuid"))
        if subtype == "compact_boundary":
            meta = line.get("compactMetadata")
            self._event("lifecycle", "compaction", f"line:{uuid}", at, agent, data=meta)
        elif subtype == "api_error":
            error = line.get("error")
            text = text_of(line.get("content")) or (str(error)[:500] if error is not None else "API error")
            data = {k: line[k] for k in ("retryInMs", "retryAttempt", "maxRetries", "level") if k in line}
            self._event("recovery", "api_retry", f"line:{uuid}", at, agent, error=text, data=data)
        elif subtype not in QUIET_SUBTYPES:
            self._event("custom", f"system:{subtype}", f"line:{uuid}", at, agent, data=line)

    def keep_raw(self, number_: int, line: dict[str, Any]) -> None:
        """A line of a type Baton does not know: kept whole as a custom event."""
        name = line.get("type") if isinstance(line.get("type"), str) else "unknown"
        # Without a uuid it is this file's line (two files may hold such lines at one number).
        native = f"raw:{line['uuid']}" if isinstance(line.get("uuid"), str) else None
        self._events.append(
            EventRecord(
                FRAMEWORK,
                self.session,
                "custom",
                name,
                native,
                at=self.time(line),
                agent_id="main",
                data=line,
            )
        )

    def events(self) -> list[EventRecord]:
        calls = []
        for key, (_, _, line, at, usage) in sorted(self._responses.items(), key=lambda item: item[1][1]):
            message = line["message"]
            inp, out, read, write, ttl = usage
            data: dict[str, Any] = {
                "request_id": line.get("requestId"),
                "stop_reason": message.get("stop_reason"),
            }
            if write and ttl is not None:
                data["cache_ttl"] = ttl
            cost = line.get("costUSD")
            calls.append(
                EventRecord(
                    FRAMEWORK,
                    self.session,
                    "llm_call",
                    "model_call",
                    native_id=f"msg:{key}",
                    at=at,
                    agent_id=self.agent_of(line),
                    model=message.get("model") if isinstance(message.get("model"), str) else None,
                    input_tokens=inp,
                    output_tokens=out,
                    cache_read_tokens=read,
                    cache_write_tokens=write,
                    cost_usd=float(cost)
                    if isinstance(cost, int | float) and not isinstance(cost, bool)
                    else None,
                    data=data,
                )
            )
        return calls + self._events

    def record(
        self,
        whole: bool,
        title: str | None,
        leaf: str | None,
        nearest: dict[str, str | None],
        copies: set[str],
    ) -> RunRecord:
        main_file = self.file_agent is None
        status, reason, signals = session_status(self._last) if self._last else (None, None, {})
        attributes: dict[str, Any] = dict(self._meta)
        found = (response[2]["message"].get("model") for response in self._responses.values())
        models = sorted({m for m in found if isinstance(m, str)})
        if models:
            attributes["models"] = models
        if title:
            attributes["title"] = title
        if self._agent_types:
            attributes["agent_types"] = self._agent_types
        if copies:
            attributes["copied_lines"] = len(copies)
        live = nearest.get(leaf) if leaf else None
        prompts = [cp.native_id for cp in self.checkpoints]
        if live or prompts:
            attributes["latest_checkpoint"] = live or prompts[-1]
        return RunRecord(
            framework=FRAMEWORK,
            native_id=self.session,
            as_of=self._end,
            status=status if main_file else None,
            task=self._task if main_file else None,
            agents=list(self._agents),
            started_at=self._first,
            ended_at=self._end,
            failure_reason=reason,
            failure_signals=signals,
            attributes=attributes,
            inferred=["status"] if status else [],
        )


__all__ = ["SessionRun", "number"]

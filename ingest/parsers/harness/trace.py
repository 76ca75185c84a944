"""react-agent-harness BusEvent traces as JSON Lines (0.14 ``record_trace``; the 0.0.2
samples use the same six fields: ``type, agent_id, payload, token, error, timestamp``).

BusEvents carry no run id. The run is the UUID in the file name (the sample generator
names traces ``<scenario>--<run_id>.jsonl``), else the file itself (``trace:<path>``), so
that every appended chunk of one file lands in the same run. Events bubbled up from a
sub-agent carry ``payload.invocation_id``: they belong to the sub-agent's run (its run id
is the invocation id). How the run ended comes from its terminal events: ``done`` or an
agent-form ``task_done`` completes it; an ``error`` fails it unless the orchestrator
carries on (an orchestrated task's error is followed by the orchestrator's ``task_done``).
A chunk appended later that starts after an agent's error cannot tell a routed run from an
orchestration: it takes the error as terminal until a later event says otherwise.
"""

from __future__ import annotations

from typing import Any

from core.records import EventRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content, line_values
from ingest.errors import ParseError
from ingest.parsers.harness import common as hc
from ingest.spec import FormatSpec

FIELDS = {"type", "agent_id", "payload", "timestamp"}
KINDS = {
    "dispatch": "lifecycle",
    "route": "handoff",
    "plan": "lifecycle",
    "plan_proposed": "lifecycle",
    "resumed": "lifecycle",
    "done": "lifecycle",
    "task_done": "lifecycle",
    "synthesis": "step",
    "thought": "step",
    "action": "tool_call",
    "observation": "tool_call",
    "replan": "recovery",
    "subagent_start": "handoff",
    "subagent_done": "handoff",
    "error": "error",
}
ORCHESTRATOR = "orchestrator"


def _is_event(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() >= FIELDS
        and isinstance(value.get("type"), str)
        and ("token" in value or "error" in value)
    )


def detect(content: Content) -> bool:
    return content.kind in ("json", "jsonl") and _is_event(content.first_value)


def _event(run: str, ev: dict[str, Any]) -> EventRecord:
    kind_name, payload = ev["type"], ev["payload"] if isinstance(ev.get("payload"), dict) else {}
    kind = KINDS.get(kind_name, "custom")
    record = EventRecord(
        framework=hc.FRAMEWORK,
        run_native_id=run,
        kind=kind,
        name=kind_name,
        at=parse_timestamp(ev.get("timestamp")),
        data=ev.get("payload"),
        agent_id=ev.get("agent_id") if isinstance(ev.get("agent_id"), str) else None,
    )
    if kind_name == "context" and "tokens_in" in payload:  # after the model call: its usage
        record.kind = "llm_call"
        record.input_tokens = hc.as_int(payload.get("tokens_in"))
        record.output_tokens = hc.as_int(payload.get("tokens_out"))
        record.cache_read_tokens = hc.as_int(payload.get("cache_read_tokens"))
        record.cache_write_tokens = hc.as_int(payload.get("cache_creation_tokens"))
    if kind_name == "token":
        record.data = {"token": ev.get("token")}
    step = payload.get("step")
    record.step = str(step) if hc.as_int(step) is not None else None
    record.tool = payload.get("tool") if isinstance(payload.get("tool"), str) else None
    if kind_name == "error" or (kind_name in ("task_done", "subagent_done") and payload.get("error")):
        error = ev.get("error") or payload.get("error")
        record.error = error if isinstance(error, str) and error else str(error) if error else None
        record.kind = "error" if kind_name == "error" else record.kind
    return record


class _RunState:
    """Folds one run's events into what the trace says about the run."""

    def __init__(self, native_id: str) -> None:
        self.run = RunRecord(framework=hc.FRAMEWORK, native_id=native_id, priority=hc.PRIORITY_TRACE)
        self.task_errors: dict[str, Any] = {}
        self.orchestrated = False  # an agent's error then ends a task, not the run

    def add(self, ev: dict[str, Any], at: Any) -> None:
        run, kind, agent = self.run, ev["type"], ev.get("agent_id")
        payload = ev["payload"] if isinstance(ev.get("payload"), dict) else {}
        if at is not None:
            run.started_at = min(run.started_at or at, at)
            run.ended_at = max(run.ended_at or at, at)
            run.as_of = run.ended_at
        if isinstance(agent, str) and agent != ORCHESTRATOR and agent not in run.agents:
            run.agents.append(agent)
        if kind in ("plan", "replan", "synthesis") or (kind == "task_done" and "task_id" in payload):
            self.orchestrated = True
        if kind == "dispatch":
            run.attributes["dispatch"] = payload
            self.orchestrated = payload.get("path") == "orchestrated"
        elif kind == "error" and self.orchestrated and agent != ORCHESTRATOR:
            pass  # the orchestrator decides (retry, skip, replan, abort) and reports the task's failure
        elif kind == "error":
            self._end("failed", f"'error' event from {agent}", ev.get("error") or None)
            run.failure_signals.update(type="error", agent_id=agent, error=ev.get("error"), payload=payload)
        elif kind == "task_done" and "task_id" in payload:  # the orchestrator's re-emission
            if not payload.get("success"):
                self.task_errors[str(payload["task_id"])] = payload.get("error")
            self._carry_on()
        elif kind in ("task_done", "subagent_done"):
            ok = kind == "task_done" or payload.get("success") is True
            self._end(
                "completed" if ok else "failed", f"'{kind}' event", None if ok else payload.get("error")
            )
            self._usage(payload.get("budget"))
        elif kind == "done":
            self._end("completed", "'done' event of the orchestrator", None)
            run.task = payload.get("goal") if isinstance(payload.get("goal"), str) else run.task
            run.failure_signals["replan_count"] = payload.get("replan_count")
            self._usage(payload.get("budget") or {"cost_usd": payload.get("cost_usd")})
        elif kind in ("replan", "synthesis", "plan"):
            self._carry_on()
        if self.task_errors:
            run.failure_signals["task_errors"] = dict(self.task_errors)

    def _end(self, status: str, basis: str, reason: Any) -> None:
        self.run.status, self.run.failure_reason = (
            status,
            reason if isinstance(reason, str) and reason else None,
        )
        self.run.attributes[hc.STATUS_BASIS] = f"{basis} in the trace"

    def _carry_on(self) -> None:
        """The orchestrator went on after an agent error: that error did not end the run."""
        if self.run.status == "failed":
            self.run.status = self.run.failure_reason = None
            self.run.attributes.pop(hc.STATUS_BASIS, None)
            for name in ("type", "agent_id", "error", "payload"):
                self.run.failure_signals.pop(name, None)

    def _usage(self, budget: Any) -> None:
        for name, value in hc.budget_usage(budget).items():
            setattr(self.run, name, value)


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format="harness.trace")
    lines = line_values(content, skipped=parsed.warnings)  # a bad line is skipped with a warning
    main_id = hc.run_id_in_name(content.path) or f"trace:{content.path}"
    runs: dict[str, _RunState] = {}
    for number, ev in lines:
        if not _is_event(ev):
            raise ParseError(
                content.path, "not a harness trace event (type, agent_id, payload, timestamp)", number
            )
        payload = ev["payload"] if isinstance(ev.get("payload"), dict) else {}
        sub = payload.get("invocation_id")
        run_id = sub if isinstance(sub, str) and sub and sub != main_id else main_id
        if run_id not in runs:
            runs[run_id] = _RunState(run_id)
            if run_id != main_id:
                runs[run_id].run.attributes["parent_run_id"] = main_id
        record = _event(run_id, ev)
        parsed.events.append(record)
        runs[run_id].add(ev, record.at)
        if ev["type"] == "subagent_start" and run_id != main_id:
            runs[run_id].run.task = payload.get("task") if isinstance(payload.get("task"), str) else None
    parsed.runs.extend(state.run for state in runs.values())
    return parsed


FORMAT = FormatSpec(
    name="harness.trace",
    framework=hc.FRAMEWORK,
    description="react-agent-harness BusEvent traces (JSON Lines, record_trace)",
    detect=detect,
    parse=parse,
    append_only=True,
)

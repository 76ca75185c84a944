"""What the loopengt 0.1.0 parsers share: status words, step states, trace events.

Not a format itself (nothing registers it). Trace events come from two stores with the
same base fields: JSON Lines keep the subclass fields (tokens, attempt, error, model),
SQLite keeps only the base columns. Both go through :func:`event_record`, and one run's
events through :func:`run_from_events`, which splits them into attempts at each
``loop.start``: a run resumed under the same ``run_id`` appends a second attempt to the
same trace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.records import EventRecord, RunRecord
from core.timeutil import parse_timestamp

FRAMEWORK = "loopengt"
# loopengt RunStatus -> Baton status. ``cancelled`` ended the run without success; the
# original word stays in failure_signals["status"].
STATUS_MAP = {
    "pending": "running",
    "running": "running",
    "paused": "paused",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "failed",
}
EVENT_KINDS = {
    "loop.start": "lifecycle",
    "loop.complete": "lifecycle",
    "loop.error": "error",
    "step.start": "step",
    "step.complete": "step",
    "step.error": "error",
    "step.retry": "recovery",
    "agent.invoke": "llm_call",
    "agent.response": "llm_call",
    "agent.error": "error",
    "tool.call": "tool_call",
    "tool.result": "tool_call",
    "tool.error": "error",
    "checkpoint.save": "checkpoint",
    "checkpoint.load": "checkpoint",
    "handoff": "handoff",
    "custom": "custom",
}
# ``custom`` events an application uses to mark a lifecycle change (the samples pause this way).
LIFECYCLE_ACTIONS = frozenset({"pause", "resume", "cancel", "stop"})
# Fields that go to EventRecord's typed fields; every other key of an event goes to ``data``.
TYPED_KEYS = frozenset(
    [
        "event_id",
        "event_type",
        "timestamp",
        "run_id",
        "step_name",
        "agent_name",
        "tool_name",
        "parent_event_id",
        "duration_seconds",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "error",
    ]
)
TRACE_BASE_KEYS = frozenset(
    [
        "event_id",
        "event_type",
        "timestamp",
        "run_id",
        "step_name",
        "agent_name",
        "tool_name",
        "turn",
        "data",
        "duration_seconds",
        "parent_event_id",
        "metadata",
    ]
)


def text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def step_state_items(step_states: Any) -> list[tuple[str, dict[str, Any]]]:
    """(name, state) pairs in spec order: an object keyed by name in run files, an array in
    checkpoints. Entries that are not objects are skipped."""
    if isinstance(step_states, dict):
        pairs = [(str(name), state) for name, state in step_states.items()]
    elif isinstance(step_states, list):
        pairs = [(str(state.get("step_name")), state) for state in step_states if isinstance(state, dict)]
    else:
        return []
    return [(name, state) for name, state in pairs if isinstance(state, dict)]


def step_error(state: dict[str, Any]) -> str | None:
    result = state.get("result")
    return text(result.get("error")) if isinstance(result, dict) else None


def step_summary(state: dict[str, Any]) -> dict[str, Any]:
    """Status and attempts of one step (plus its error when it has one)."""
    summary = {"status": state.get("status"), "attempts": state.get("attempts")}
    error = step_error(state)
    if error:
        summary["error"] = error
    return summary


def event_kind(event_type: str, data: Any) -> str:
    if event_type == "custom" and isinstance(data, dict) and data.get("action") in LIFECYCLE_ACTIONS:
        return "lifecycle"
    return EVENT_KINDS.get(event_type, "custom")


def event_record(raw: dict[str, Any], run_id: str) -> EventRecord:
    """One trace event (a JSONL line, or a SQLite row with ``data`` decoded)."""
    event_type = str(raw["event_type"])
    payload = raw.get("data")
    lifted = payload if isinstance(payload, dict) else {}
    error = text(raw.get("error")) or text(lifted.get("error"))
    prompt = _count(raw.get("prompt_tokens", lifted.get("prompt_tokens")))
    completion = _count(raw.get("completion_tokens", lifted.get("completion_tokens")))
    if not prompt and not completion:  # AgentEvent defaults to 0/0: "not reported", not zero usage
        prompt = completion = None
    return EventRecord(
        framework=FRAMEWORK,
        run_native_id=run_id,
        kind=event_kind(event_type, payload),
        name=event_type,
        native_id=text(raw.get("event_id")),
        parent_native_id=text(raw.get("parent_event_id")),
        at=parse_timestamp(raw.get("timestamp")),
        agent_id=text(raw.get("agent_name")),
        step=text(raw.get("step_name")),
        tool=text(raw.get("tool_name")),
        model=text(raw.get("model")) or text(lifted.get("model")),
        input_tokens=prompt,
        output_tokens=completion,
        duration_s=_number(raw.get("duration_seconds")),
        error=error,
        data={key: value for key, value in raw.items() if key not in TYPED_KEYS},
    )


def _payload(event: EventRecord) -> dict[str, Any]:
    payload = event.data.get("data") if isinstance(event.data, dict) else None
    return payload if isinstance(payload, dict) else {}


def _end_outcome(event: EventRecord) -> str | None:
    if event.name == "loop.complete":
        return "completed"
    if event.name == "loop.error":
        return "failed"
    if event.kind == "lifecycle" and event.name == "custom":
        action = _payload(event).get("action")
        return {"pause": "paused", "cancel": "failed", "stop": "failed"}.get(action)
    return None


def changes_attempts(events: list[EventRecord]) -> bool:
    """Whether ``events`` start or end an attempt (so a trace's attempt list changes)."""
    return any(event.name == "loop.start" or _end_outcome(event) for event in events)


def attempts_of(events: list[EventRecord]) -> list[dict[str, Any]]:
    """One entry per ``loop.start``: when it started and how it ended (if it did). An end
    event before any ``loop.start`` closes an attempt whose start is unknown."""
    attempts: list[dict[str, Any]] = []
    for event in events:
        if event.name == "loop.start":
            attempt: dict[str, Any] = {
                "attempt": len(attempts) + 1,
                "started_at": _iso(event.at),
                "outcome": None,
                "ended_at": None,
            }
            resumed_from = _payload(event).get("resumed_from")
            if resumed_from is not None:
                attempt["resumed_from"] = resumed_from
            attempts.append(attempt)
            continue
        outcome = _end_outcome(event)
        if outcome:
            if not attempts:  # the tail of a trace, or a trace whose loop.start was not recorded
                attempts.append({"attempt": 1, "started_at": None, "outcome": None, "ended_at": None})
            current = attempts[-1]
            current.update(outcome=outcome, ended_at=_iso(event.at))
            reason = event.error or text(_payload(event).get("reason"))
            if reason:
                current["error" if outcome == "failed" else "reason"] = reason
    return attempts


def run_from_events(run_id: str, events: list[EventRecord], whole: bool = True) -> RunRecord:
    """What a run's trace says about the run. Its status is inferred from the last attempt
    (a run file, when present, outranks it). ``whole`` is False when ``events`` are only
    the new tail of a trace: then no attempt list is given, since it would be incomplete."""
    attempts = attempts_of(events)
    last = attempts[-1] if attempts else None
    status = (last["outcome"] or "running") if last else None
    agents: list[str] = []
    for event in events:
        if event.agent_id and event.agent_id not in agents:
            agents.append(event.agent_id)
    times = [event.at for event in events if event.at]
    attributes: dict[str, Any] = {}
    for event in events:
        if event.name == "loop.start" and isinstance(event.data, dict):
            if text(event.data.get("loop_name")):
                attributes["loop_name"] = event.data["loop_name"]
            if text(_payload(event).get("goal")):
                attributes["goal"] = _payload(event)["goal"]
    if whole and attempts:
        attributes["attempts"] = attempts
        origin = attempts[0].get("resumed_from")
        if isinstance(origin, dict) and origin.get("run_id") not in (None, run_id):
            attributes["resumed_from"] = origin
    failed = last is not None and last["outcome"] == "failed"
    return RunRecord(
        framework=FRAMEWORK,
        native_id=run_id,
        priority=0,
        as_of=max(times) if times else None,
        status=status,
        agents=agents,
        started_at=min(times) if times else None,
        ended_at=parse_timestamp(last["ended_at"])
        if last and last["outcome"] in ("completed", "failed")
        else None,
        failure_reason=last.get("error") if failed and last else None,
        failure_signals={"error": last.get("error")} if failed and last else {},
        attributes=attributes,
        inferred=["status"] if status else [],
    )

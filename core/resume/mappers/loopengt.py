"""loopengt: a ``CheckpointData`` (step states as a list) or a run file (``LoopState``,
step states keyed by name). Steps are done when their state is ``completed``; everything
else, in spec order, remains."""

from __future__ import annotations

from typing import Any

from core.resume.mappers.base import Mapped, UnmappableCheckpoint, step_text, text_or_none
from core.resume.source import ResumeSource


def step_states(doc: dict[str, Any]) -> list[dict[str, Any]]:
    states = doc.get("step_states")
    if isinstance(states, dict):
        return [
            s | {"step_name": s.get("step_name", name)} for name, s in states.items() if isinstance(s, dict)
        ]
    if isinstance(states, list):
        return [s for s in states if isinstance(s, dict) and isinstance(s.get("step_name"), str)]
    return []


def _result(state: dict[str, Any]) -> dict[str, Any]:
    return state.get("result") if isinstance(state.get("result"), dict) else {}


def map_loopengt(source: ResumeSource) -> Mapped:
    doc = source.document
    if not isinstance(doc, dict) or "step_states" not in doc:
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: the stored loopengt document has no step_states"
        )
    states = step_states(doc)
    done = [s for s in states if s.get("status") == "completed"]
    left = [s for s in states if s.get("status") != "completed"]
    errors = {s["step_name"]: _result(s).get("error") for s in states if _result(s).get("error")}
    context = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    attributes = source.run.get("attributes") or {}
    loop_name = doc.get("loop_name") or attributes.get("loop_name")
    task = (
        text_or_none(context.get("goal"))
        or text_or_none(context.get("task"))
        or text_or_none(context.get("topic"))
        or text_or_none(source.checkpoint.get("summary"))
        or text_or_none(source.run.get("task"))
        or (f"loopengt loop {loop_name}" if loop_name else None)
    )
    agents = doc.get("agent_states")
    agent_names = (
        list(agents)
        if isinstance(agents, dict)
        else [a.get("agent_name") for a in agents or [] if isinstance(a, dict)]
    )
    reason = (
        text_or_none(source.checkpoint.get("failure_reason"))
        or text_or_none(doc.get("error"))
        or text_or_none(source.run.get("failure_reason"))
    )
    # A run-level error can hide the cause ("unhandled errors in a TaskGroup"): add the steps'.
    causes = [
        f"step {name!r}: {error}" for name, error in errors.items() if not reason or str(error) not in reason
    ]
    reason = "; ".join([reason] * bool(reason) + causes) or None
    return Mapped(
        task_summary=task,
        completed_steps=[step_text(s["step_name"]) for s in done],
        remaining_steps=[step_text(s["step_name"]) for s in left],
        partial_output={
            s["step_name"]: _result(s).get("output") for s in done if _result(s).get("output") is not None
        },
        context={
            "loop_name": loop_name,
            "run_id": doc.get("run_id"),
            "current_step_index": doc.get("current_step_index"),
            "step_status": {s["step_name"]: s.get("status") for s in states},
            "step_errors": errors,
            "context": context,
            "history": list(doc.get("history") or []),
            "agents": [a for a in agent_names if a],
        },
        failure_reason=reason,
        agent_id=text_or_none(source.checkpoint.get("agent_id")),
    )

"""react-agent-harness: agent checkpoints (0.14 ``kind: agent``, 0.0.2 plain) and
orchestrator checkpoints (0.14 ``kind: orchestrator``, 0.0.2 with ``plan``/``completed``).

An agent's done steps are its past actions (read from the transcript), what remains is the
pending or approved action of the current step and the rest of the ReAct loop. An
orchestration's steps are its plan tasks."""

from __future__ import annotations

import json
from typing import Any

from core.resume.mappers.base import Mapped, UnmappableCheckpoint, confidence_or_none, step_text, text_or_none
from core.resume.source import ResumeSource


def is_orchestrator(doc: dict[str, Any]) -> bool:
    return doc.get("kind") == "orchestrator" or ("plan" in doc and "goal" in doc)


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return content if isinstance(content, str) else ""


def _action_text(tool: Any, args: Any) -> str:
    return f"{tool}({json.dumps(args, ensure_ascii=False, default=str)})" if args else f"{tool}()"


def _past_actions(messages: list[Any]) -> list[str]:
    steps: list[str] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        try:
            reply = json.loads(_content(message))
        except ValueError:
            continue
        if not isinstance(reply, dict):
            continue
        if isinstance(reply.get("actions"), list):
            steps += [
                _action_text(a.get("tool") or a.get("action"), a.get("args"))
                for a in reply["actions"]
                if isinstance(a, dict)
            ]
        elif reply.get("action") and reply.get("action") != "finish":
            steps.append(_action_text(reply["action"], reply.get("args")))
    return steps


def _map_agent(source: ResumeSource, doc: dict[str, Any]) -> Mapped:
    memory = doc.get("memory") if isinstance(doc.get("memory"), dict) else {}
    messages = [m for m in memory.get("messages") or [] if isinstance(m, dict)]
    actions = [a for a in doc.get("actions") or [] if isinstance(a, dict)]
    pending = doc.get("pending") if isinstance(doc.get("pending"), dict) else None  # 0.0.2 HITL wait
    completed = _past_actions(messages)
    executed = [a for a in actions if a.get("status") == "executed"]
    waiting = [a for a in actions if a.get("status") in ("pending", "approved")]
    current = doc.get("assistant_message")
    if not (current and any(_content(m) == current for m in messages)):  # this step's actions ran already
        completed += [_action_text(a.get("tool"), a.get("args")) for a in executed]
    remaining: list[str] = []
    for action in waiting:
        verb = "approve and run" if action.get("status") == "pending" else "run (approved)"
        remaining.append(f"{verb} {_action_text(action.get('tool'), action.get('args'))}")
    if pending:
        remaining.append(f"approve and run {_action_text(pending.get('tool'), pending.get('args'))}")
    step, phase = doc.get("step"), doc.get("phase")
    remaining.append(f"continue the ReAct loop at step {step}" + (f" (phase {phase})" if phase else ""))
    result = doc.get("result") if isinstance(doc.get("result"), dict) else None
    observations = [
        {"tool": a.get("tool"), "args": a.get("args"), "observation": a.get("observation")} for a in executed
    ]
    return Mapped(
        task_summary=text_or_none(doc.get("task")) or text_or_none(source.run.get("task")),
        completed_steps=completed,
        remaining_steps=remaining,
        partial_output={
            k: v
            for k, v in (
                ("result", result),
                ("observations", observations or None),
                ("assistant_message", doc.get("assistant_message")),
            )
            if v
        },
        context={
            "task": doc.get("task"),
            "run_id": doc.get("run_id"),
            "agent_id": doc.get("agent_id"),
            "step": step,
            "phase": phase,
            "messages": messages,
            "summarization_count": memory.get("summarization_count"),
            "actions": actions or None,
            "pending": pending,
            "budget": doc.get("budget"),
        },
        failure_reason=text_or_none(doc.get("error"))
        or text_or_none(source.checkpoint.get("failure_reason"))
        or text_or_none(source.run.get("failure_reason")),
        confidence=confidence_or_none(result.get("confidence")) if result else None,
        agent_id=text_or_none(doc.get("agent_id")),
    )


def _map_orchestrator(source: ResumeSource, doc: dict[str, Any]) -> Mapped:
    plan = doc.get("plan") if isinstance(doc.get("plan"), dict) else {}
    planned = [t for t in plan.get("tasks") or [] if isinstance(t, dict)]
    states = doc.get("tasks") if isinstance(doc.get("tasks"), dict) else {}
    results: dict[str, Any] = {}
    if isinstance(doc.get("completed"), dict):  # 0.0.2
        results = {k: v for k, v in doc["completed"].items() if isinstance(v, dict)}
    for task_id, state in states.items():
        if isinstance(state, dict) and isinstance(state.get("result"), dict):
            results[task_id] = state["result"]
    done, left = [], []
    for task in planned:
        task_id = str(task.get("id"))
        label = f"{task_id} ({task.get('agent_id')}): {task.get('instruction')}"
        state = states.get(task_id) if isinstance(states.get(task_id), dict) else {}
        ok = state.get("status") == "done" or (not states and results.get(task_id, {}).get("success"))
        (done if ok else left).append(
            label + ("" if ok or not state.get("status") else f" [{state['status']}]")
        )
    failures = [
        f"{k}: {v.get('error')}" for k, v in results.items() if not v.get("success") and v.get("error")
    ]
    confidences = [
        c
        for c in (confidence_or_none(r.get("confidence")) for r in results.values() if r.get("success"))
        if c is not None
    ]
    return Mapped(
        task_summary=text_or_none(doc.get("goal")) or text_or_none(source.run.get("task")),
        completed_steps=[step_text(s) for s in done],
        remaining_steps=[step_text(s) for s in left],
        partial_output={k: v.get("answer") for k, v in results.items() if v.get("answer")},
        context={
            "goal": doc.get("goal"),
            "run_id": doc.get("run_id"),
            "plan": plan,
            "task_states": states or None,
            "task_results": results,
            "replan_count": doc.get("replan_count"),
            "aborted": doc.get("aborted"),
        },
        failure_reason="; ".join(failures) or text_or_none(source.run.get("failure_reason")),
        confidence=min(confidences) if confidences else None,
        agent_id="orchestrator",
    )


def map_harness(source: ResumeSource) -> Mapped:
    doc = source.document
    if not isinstance(doc, dict):
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: the stored harness document is not an object"
        )
    if is_orchestrator(doc):
        return _map_orchestrator(source, doc)
    if "task" in doc or "memory" in doc:
        return _map_agent(source, doc)
    raise UnmappableCheckpoint(
        f"checkpoint {source.checkpoint['id']}: a react-agent-harness document that is neither an agent "
        "checkpoint (task, memory) nor an orchestrator checkpoint (goal, plan)"
    )

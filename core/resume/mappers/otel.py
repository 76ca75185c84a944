"""OpenTelemetry traces: the resume document from the run's spans (loaded beside the
checkpoint, ``ResumeSource.events``), up to the chosen part of the trace.

What the agent was asked is the run's task (the first input the parser found: ``run.goal``,
``input.value``, ``gen_ai.input.messages``, ...); what it did is every span in time order,
tool calls with their arguments and results where the emitter recorded them; where it
stopped is the last span and, for a failed run, the failing span's error.
"""

from __future__ import annotations

from typing import Any

from core.resume.mappers.base import Mapped, text_or_none
from core.resume.source import ResumeSource

TOOL_ARGS = ("gen_ai.tool.call.arguments", "input.value", "traceloop.entity.input", "tool.parameters", "args")
TOOL_RESULTS = ("gen_ai.tool.call.result", "output.value", "traceloop.entity.output", "observation")
OUTPUTS = ("output.value", "gen_ai.output.messages", "traceloop.entity.output", "gen_ai.completion.0.content")
MAX_STEPS = 200


def _attrs(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("attributes"), dict):
        return data["attributes"]
    return data if isinstance(data, dict) else {}


def _pick(attrs: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((attrs[name] for name in names if attrs.get(name) not in (None, "")), None)


def _step(event: dict[str, Any]) -> str:
    label = f"{event['kind']} {event['name']}"
    if event.get("agent_id"):
        label += f" [{event['agent_id']}]"
    if event.get("model"):
        label += f" model={event['model']}"
    if event.get("error"):
        label += f": ERROR {event['error']}"
    return label


def _tool_call(event: dict[str, Any]) -> dict[str, Any]:
    attrs = _attrs(event)
    call = {"tool": event.get("tool") or event["name"], "span_id": event.get("native_id")}
    args, result = _pick(attrs, TOOL_ARGS), _pick(attrs, TOOL_RESULTS)
    if args is not None:
        call["arguments"] = args
    if result is not None:
        call["result"] = result
    call["status"] = "error" if event.get("error") else "ok"
    if event.get("error"):
        call["error"] = event["error"]
    return call


def map_otel(source: ResumeSource) -> Mapped:
    run, checkpoint = source.run, source.checkpoint
    attributes = run.get("attributes") or {}
    events = [e for e in (source.events or []) if e.get("native_id") and ":" not in e["native_id"]]
    spans = [e for e in events if e["kind"] not in ("error", "custom")]
    steps = [_step(e) for e in spans]
    tools = [_tool_call(e) for e in (source.events or []) if e["kind"] == "tool_call"]
    last_output = next((out for e in reversed(spans) if (out := _pick(_attrs(e), OUTPUTS)) is not None), None)
    service = attributes.get("service.name")
    trace_id = attributes.get("trace_id") or run.get("native_id")
    remaining = []
    if attributes.get("incomplete"):
        remaining.append(
            "finish the task: the trace's root span never arrived (the agent had not finished when the "
            "spans were exported, or its process ended)"
        )
    elif run.get("status") == "failed":
        remaining.append("redo what failed, then finish the task")
    context: dict[str, Any] = {
        "trace_id": trace_id,
        "service": service,
        "conversation_id": attributes.get("conversation_id"),
        "scopes": attributes.get("scopes"),
        "spans_recorded": len(spans),
        "tool_calls": tools[-MAX_STEPS:],
        "events": [
            {k: e.get(k) for k in ("kind", "name", "agent_id", "tool", "model", "at", "error") if e.get(k)}
            for e in (source.events or [])[-MAX_STEPS:]
        ],
        "stopped_at": _step(spans[-1]) if spans else None,
        "how_to_resume": (
            "OpenTelemetry has no checkpoint to resume from: start the task again with this document as "
            "context (what was asked, what was done, why it stopped)"
        ),
    }
    return Mapped(
        task_summary=text_or_none(run.get("task"))
        or f"Continue the agent run recorded as OpenTelemetry trace {trace_id}"
        + (f" of service {service}" if service else ""),
        completed_steps=steps[-MAX_STEPS:],
        remaining_steps=remaining,
        partial_output={"last_output": last_output} if last_output is not None else {},
        context={k: v for k, v in context.items() if v not in (None, [], "")},
        failure_reason=text_or_none(run.get("failure_reason"))
        or text_or_none(checkpoint.get("failure_reason")),
        agent_id=(run.get("agents") or [None])[0],
    )

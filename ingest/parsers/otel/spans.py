"""One span as events: the span itself (nested under its parent span) and its span events
(an ``exception`` event is an error). Known emitter quirks are undone here, with a note."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.records import EventRecord
from ingest.parsers.otel import conventions as cv
from ingest.parsers.otel.otlp import SPAN_KINDS, STATUS_CODES, Span

FRAMEWORK = "otel"
HARNESS_TASK_QUIRK = (
    "react-agent-harness 0.14 OTELHook marks every task span ERROR 'task failed' (task.id empty, "
    "task.success false, also for tasks that succeeded): not taken as a failure"
)


def at(ns: int | None) -> datetime | None:
    if ns is None or ns <= 0:
        return None
    try:
        return datetime.fromtimestamp(ns / 1e9, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def harness_task_quirk(span: Span) -> bool:
    attrs = span.attributes
    return (
        span.name.startswith("task:")
        and span.status_message == "task failed"
        and attrs.get("task.id") == ""
        and attrs.get("task.success") is False
    )


def exception_text(event: dict[str, Any]) -> str:
    attrs = event["attributes"]
    kind, message = attrs.get("exception.type"), attrs.get("exception.message")
    return ": ".join(str(part) for part in (kind, message) if part) or "exception"


def span_error(span: Span) -> str | None:
    """The span's failure as text (status message, ``error.type``, its exception), or None."""
    if span.status_code != 2 or harness_task_quirk(span):
        return None
    error_type = span.attributes.get("error.type")
    message = span.status_message
    if message and error_type and str(error_type) not in message:
        return f"{error_type}: {message}"
    if message or error_type:
        return str(message or error_type)
    exceptions = [e for e in span.events if e["name"] == "exception"]
    return exception_text(exceptions[-1]) if exceptions else "ERROR"


def span_events(span: Span, agent: str | None) -> list[EventRecord]:
    """The span and its span events as records."""
    attrs = span.attributes
    kind = cv.kind_of(span.name, attrs)
    duration = (span.end_ns - span.start_ns) / 1e9 if span.end_ns and span.start_ns else None
    data: dict[str, Any] = {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "span_kind": SPAN_KINDS[span.kind] if 0 <= span.kind < len(SPAN_KINDS) else span.kind,
        "status": STATUS_CODES[span.status_code] if 0 <= span.status_code < 3 else span.status_code,
        "attributes": attrs,
    }
    if span.status_message:
        data["status_message"] = span.status_message
    if span.scope:
        data["scope"] = span.scope
    if span.resource.get("service.name"):
        data["service"] = span.resource["service.name"]
    if span.links:
        data["links"] = span.links
    if harness_task_quirk(span):
        data["quirk"] = HARNESS_TASK_QUIRK
    record = EventRecord(
        framework=FRAMEWORK,
        run_native_id=span.trace_id,
        kind=kind,
        name=span.name,
        native_id=span.span_id,
        parent_native_id=span.parent_id,
        at=at(span.start_ns),
        agent_id=agent,
        duration_s=duration if duration is None or duration >= 0 else None,
        error=span_error(span),
        data=data,
    )
    if kind == "llm_call":
        record.model = cv.model_of(attrs)
        record.input_tokens = cv.count(attrs, cv.INPUT)
        record.output_tokens = cv.count(attrs, cv.OUTPUT)
        record.cache_read_tokens = cv.count(attrs, cv.CACHE_READ)
        record.cache_write_tokens = cv.count(attrs, cv.CACHE_WRITE)
        cost = cv.first(attrs, cv.COST)
        if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
            record.cost_usd = float(cost)
        requested = attrs.get("gen_ai.request.model")
        if isinstance(requested, str) and requested.lower() in cv.UNKNOWN_MODELS and record.model:
            data["quirk"] = f"request model {requested!r}: the response model {record.model!r} is used"
    elif kind == "tool_call":
        record.tool = cv.tool_of(span.name, attrs)
    records = [record]
    for index, event in enumerate(span.events):
        is_exception = event["name"] == "exception"
        tool = event["attributes"].get("tool")
        records.append(
            EventRecord(
                framework=FRAMEWORK,
                run_native_id=span.trace_id,
                kind="error"
                if is_exception
                else ("tool_call" if isinstance(tool, str) and tool else "custom"),
                name=event["name"] or "span event",
                native_id=f"{span.span_id}:{index}",
                parent_native_id=span.span_id,
                at=at(event["time_ns"]) or record.at,
                agent_id=agent,
                tool=tool if isinstance(tool, str) and tool else None,
                error=exception_text(event) if is_exception else None,
                data=event["attributes"],
            )
        )
    return records

"""OTLP/JSON trace files (``otel.traces``): one run per trace, each span an event under its
parent span.

Layouts: the Collector's file exporter and the spec's file exporter (one request per line,
JSON Lines, appended to and rotated), Baton's own ``baton otlp`` spool files (the same), and a
single pretty-printed request. Spans of one trace may sit on many lines and in many files
(no ordering guarantee): every file says what it holds of a trace, and the store merges the
run. Only the part holding the root span says how the run ended (a higher priority); a trace
whose root never arrived is ``running`` (inferred) and marked ``incomplete``.

Each file part of a trace is one checkpoint (id ``<trace id>/<its first span id>``), chained
with the trace's other parts by time: what the trace held when that part was written. OTel
has no checkpoint of its own; the resume document is built from the run's spans.
"""

from __future__ import annotations

from typing import Any

from core.records import CheckpointRecord, EventRecord, ParsedFile, RunRecord
from ingest.content import Content, line_values
from ingest.parsers.otel import conventions as cv
from ingest.parsers.otel.otlp import STATUS_CODES, Span, is_traces, spans_of
from ingest.parsers.otel.spans import FRAMEWORK, at, exception_text, span_error, span_events
from ingest.spec import FormatSpec

PRIORITY_PART, PRIORITY_ROOT = 1, 2
DOCUMENT_SPANS = 200  # spans listed in a checkpoint's document


def detect(content: Content) -> bool:
    return content.kind in ("json", "jsonl") and is_traces(content.first_value)


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format=FORMAT.name)
    traces: dict[str, list[Span]] = {}
    for line, value in line_values(content, parsed.warnings):
        if not is_traces(value):
            kind = next(
                (k for k in ("resourceMetrics", "resourceLogs") if isinstance(value, dict) and k in value),
                None,
            )
            parsed.warnings.append(
                f"{content.name}:{line}: skipped: {kind + ' (not traces)' if kind else 'not an OTLP trace request'}"
            )
            continue
        for span in spans_of(value, line, parsed.warnings, content.name):
            traces.setdefault(span.trace_id, []).append(span)
    for trace_id, spans in traces.items():
        _trace(trace_id, spans, parsed)
    return parsed


def _agents(spans: list[Span], by_id: dict[str, Span]) -> dict[str, str | None]:
    """Each span's agent: its own, else its nearest ancestor's in this part (a cycle of
    parent ids in a hostile file ends the walk)."""
    own = {s.span_id: cv.agent_of(s.name, cv.kind_of(s.name, s.attributes), s.attributes) for s in spans}
    found: dict[str, str | None] = {}
    for span in spans:
        path: list[str] = []
        seen: set[str] = set()
        current: str | None = span.span_id
        agent: str | None = None
        while current is not None and current not in seen:
            if current in found:
                agent = found[current]
                break
            path.append(current)
            seen.add(current)
            if own[current]:
                agent = own[current]
                break
            parent = by_id[current].parent_id
            current = parent if parent in by_id else None
        for span_id in path:
            found[span_id] = own[span_id] or agent
    return found


def _trace(trace_id: str, spans: list[Span], parsed: ParsedFile) -> None:
    by_id = {span.span_id: span for span in spans}
    agents = _agents(spans, by_id)
    events: list[EventRecord] = []
    for span in spans:
        events.extend(span_events(span, agents[span.span_id]))
    parsed.events.extend(events)
    root = next((s for s in spans if not s.parent_id), None)
    run = _run(trace_id, spans, root, agents)
    parsed.runs.append(run)
    ends = [s.end_ns for s in spans if s.end_ns]
    parsed.checkpoints.append(
        CheckpointRecord(
            framework=FRAMEWORK,
            run_native_id=trace_id,
            native_id=f"{trace_id}/{spans[0].span_id}",
            document={
                "trace_id": trace_id,
                "root_span_id": root.span_id if root else None,
                "span_count": len(spans),
                "spans": [
                    {
                        "span_id": s.span_id,
                        "parent_span_id": s.parent_id,
                        "name": s.name,
                        "status": STATUS_CODES[s.status_code] if 0 <= s.status_code < 3 else s.status_code,
                        "line": s.line,
                    }
                    for s in spans[:DOCUMENT_SPANS]
                ],
            },
            agent_id=next((a for a in run.agents), None),
            status=run.status,
            created_at=at(max(ends)) if ends else None,
            summary=f"{len(spans)} span(s) of trace {trace_id}" + (f" ({root.name})" if root else ""),
            completed_steps=[s.name for s in sorted(spans, key=lambda s: s.end_ns or 0)[:50] if s.end_ns],
            failure_reason=run.failure_reason,
            attributes={"part_of_trace": "root" if root else "no root span"},
            inferred=["status"] if root is None else [],
            chain_key=trace_id,
        )
    )


def _task(spans: list[Span], root: Span | None) -> str | None:
    ordered = ([root] if root else []) + sorted(spans, key=lambda s: s.start_ns or 0)
    for span in ordered:
        text = cv.task_text(cv.first(span.attributes, cv.INPUTS))
        if text:
            return text
    return None


def _run(trace_id: str, spans: list[Span], root: Span | None, agents: dict[str, str | None]) -> RunRecord:
    starts = [s.start_ns for s in spans if s.start_ns]
    ends = [s.end_ns for s in spans if s.end_ns]
    head = root or min(spans, key=lambda s: s.start_ns or 0)
    run = RunRecord(
        framework=FRAMEWORK,
        native_id=trace_id,
        priority=PRIORITY_ROOT if root else PRIORITY_PART,
        as_of=at(max(ends)) if ends else None,
        task=_task(spans, root),
        agents=list(dict.fromkeys(a for a in (agents[s.span_id] for s in spans) if a)),
        started_at=at(min(starts)) if starts else None,
        ended_at=at(max(ends)) if ends else None,
    )
    services = list(
        dict.fromkeys(str(s.resource["service.name"]) for s in spans if s.resource.get("service.name"))
    )
    scopes = list(
        dict.fromkeys(
            " ".join(str(v) for v in (s.scope.get("name"), s.scope.get("version")) if v) for s in spans
        )
    )
    run.attributes = {
        "trace_id": trace_id,
        "service.name": head.resource.get("service.name") or (services[0] if services else None),
        "services": services,
        "scopes": [scope for scope in scopes if scope],
        "resource": head.resource,
        "incomplete": root is None,
    }
    conversation = next(
        (v for s in spans if (v := cv.first(s.attributes, cv.CONVERSATION)) is not None), None
    )
    if conversation is not None:
        run.attributes["conversation_id"] = conversation
    if root is None:
        run.status = "running"
        run.inferred = ["status"]
        run.attributes["incomplete_reason"] = (
            "the trace's root span has not arrived (still running, or the process ended before it was exported)"
        )
        return run
    run.attributes["root_span"] = root.name
    exceptions = [e for e in root.events if e["name"] == "exception"]
    if root.status_code != 2 and not exceptions:
        run.status = "completed"
        return run
    run.status = "failed"
    run.failure_reason = (span_error(root) or exception_text(exceptions[-1]))[:2000]
    signals: dict[str, Any] = {"span": root.name}
    for key in ("error.type", "techrevati.failure_class", "http.response.status_code", "http.status_code"):
        if root.attributes.get(key) is not None:
            signals[key] = root.attributes[key]
    if root.status_message:
        signals["status_message"] = root.status_message
    if exceptions:
        attrs = exceptions[-1]["attributes"]
        signals.update({k: attrs[k] for k in ("exception.type", "exception.message") if attrs.get(k)})
    failed_children = [s.name for s in spans if s is not root and span_error(s)]
    if failed_children:
        signals["failed_spans"] = failed_children[:20]
    run.failure_signals = signals
    return run


FORMAT = FormatSpec(
    name="otel.traces",
    framework=FRAMEWORK,
    description="OpenTelemetry traces as OTLP/JSON: one ExportTraceServiceRequest per line or one document",
    detect=detect,
    parse=parse,
    append_only=True,
)

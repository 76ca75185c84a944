"""loopengt 0.1.0 JSONL traces: ``.loopengt/runs/<run_id>.trace.jsonl`` (``JSONLTraceStore``).

One ``TraceEvent`` per line, subclass fields included (tokens, attempt, error, model, ...):
those go to the event's typed fields, everything else to ``data``. A run resumed under
the same ``run_id`` appends to the same file, so the file shows every attempt.

Recognised by the keys of the first line: ``event_id``, ``event_type``, ``timestamp`` and
``run_id`` plus either all of the other base fields or, confirming it, a ``.trace.jsonl``
name. A line that is not JSON, or not an event, fails the file with its line number (as
for ACF JSONL); what an earlier ingest loaded from it is kept.
"""

from __future__ import annotations

from core.records import EventRecord, ParsedFile
from ingest.content import Content, line_values
from ingest.errors import ParseError
from ingest.parsers.loopengt.common import (
    FRAMEWORK,
    TRACE_BASE_KEYS,
    changes_attempts,
    event_record,
    run_from_events,
    text,
)
from ingest.spec import FormatSpec

SUFFIX = ".trace.jsonl"
CORE_KEYS = frozenset({"event_id", "event_type", "timestamp", "run_id"})


def detect(content: Content) -> bool:
    first = content.first_value
    if not isinstance(first, dict) or not first.keys() >= CORE_KEYS:
        return False
    return first.keys() >= TRACE_BASE_KEYS or content.path.name.endswith(SUFFIX)


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format="loopengt.trace")
    name_hint = content.path.name[: -len(SUFFIX)] if content.path.name.endswith(SUFFIX) else None
    by_run: dict[str, list[EventRecord]] = {}
    for number, value in line_values(content):  # a trace of one line decodes as one document
        if not isinstance(value, dict) or text(value.get("event_type")) is None:
            raise ParseError(content.path, "not a loopengt trace event (no 'event_type')", number)
        run_id = text(value.get("run_id")) or name_hint
        if run_id is None:
            raise ParseError(content.path, "trace event has no 'run_id' and the file name gives none", number)
        event = event_record(value, run_id)
        if value.get("timestamp") is not None and event.at is None:
            parsed.warnings.append(f"{content.path}:{number}: unreadable timestamp {value['timestamp']!r}")
        by_run.setdefault(run_id, []).append(event)
        parsed.events.append(event)
    whole = content.first_line == 1
    parsed.runs = [run_from_events(run_id, events, whole) for run_id, events in by_run.items()]
    # New lines that start or end an attempt: the run's attempt list needs the whole trace.
    parsed.whole_file_needed = not whole and changes_attempts(parsed.events)
    return parsed


FORMAT = FormatSpec(
    name="loopengt.trace",
    framework=FRAMEWORK,
    description="loopengt 0.1.0 JSONL traces (.loopengt/runs/<run_id>.trace.jsonl)",
    detect=detect,
    parse=parse,
    append_only=True,
)

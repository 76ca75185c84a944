"""techrevati-runtime session summaries (``session.summary()``): ``{worker, usage,
per_model_cost, recovery_events, agent_events}``.

Its agent_events are the session's own events, its usage the tracker's totals and its
per-model cost the package's own figure. The run is the session's: id ``<role>/<phase>/
<project_id>@<time of its first event with a role>`` (``common.session_run_id``), the id its
event stream gives it in any sink, and each event's id is its content, so a summary beside
its stream adds no second run and no second copy of an event. The worker's transitions are
kept in ``attributes["worker_events"]`` (they restate those events). A summary with no event
with a role names only its worker: run ``worker_id``, transitions as events (as a dump of
that worker). ``recovery_events`` hold one
RecoveryEvent per attempt (0.1 events carry no recovery data): the n-th
``agent.recovery.attempted`` event gets the n-th RecoveryEvent in its ``data``.
"""

from __future__ import annotations

from typing import Any

from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import (
    FRAMEWORK,
    event_identity,
    event_record,
    is_agent_event,
    is_worker,
    session_run_id,
    tracker_totals,
    worker_records,
)
from ingest.parsers.techrevati.stream import session_key, session_outcome
from ingest.spec import FormatSpec

NAME = "techrevati.session"
RULE = (
    "a session summary is one session: its run is the session's (role, phase, project_id) and the time"
    " of its first event with a role, as in any source of its events (one run per worker_id without one)"
)


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    return isinstance(doc, dict) and is_worker(doc.get("worker")) and "agent_events" in doc and "usage" in doc


def _recovery_data(recovery: Any) -> dict[str, Any]:
    if not isinstance(recovery, dict):
        return {}
    result = recovery.get("result") if isinstance(recovery.get("result"), dict) else {}
    return (
        {"recovery_event": recovery}
        | {key: result[key] for key in ("outcome",) if key in result}
        | {key: recovery[key] for key in ("scenario",) if key in recovery}
    )


def parse(content: Content) -> ParsedFile:
    doc = content.json
    run, events = worker_records(doc["worker"], str(content.path), RULE)
    agent_events = doc.get("agent_events") if isinstance(doc.get("agent_events"), list) else []
    for index, event in enumerate(agent_events):
        if not is_agent_event(event):
            raise ParseError(content.path, f"agent_events[{index}] is not an AgentEvent")
    first = next((event for event in agent_events if session_key(event) is not None), None)
    if first is not None:
        run.native_id = session_run_id(session_key(first), first)  # type: ignore[arg-type]
        run.attributes["worker_events"] = doc["worker"].get("events")
        events = []
    recoveries = iter(doc.get("recovery_events") if isinstance(doc.get("recovery_events"), list) else [])
    seen: dict[str, int] = {}
    for event in agent_events:
        identity = event_identity(event)
        repeat = seen[identity] = seen.get(identity, 0) + 1
        identity += f"#{repeat}" if repeat > 1 else ""
        record = event_record(run.native_id, event, identity, run.agents[0] if run.agents else None)
        if event.get("event") == "agent.recovery.attempted":
            record.data |= _recovery_data(next(recoveries, None))
        events.append(record)
    outcome = session_outcome(agent_events)
    if run.status == "failed":
        run.failure_reason = outcome.get("failure_reason") or run.failure_reason
        run.failure_signals = run.failure_signals | outcome.get("failure_signals", {})
    run.attributes |= {
        key: value for key, value in outcome["attributes"].items() if key != "sessions_started"
    }
    run.attributes["recovery_events"] = doc.get("recovery_events") or []
    usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else {}
    per_model = doc.get("per_model_cost")
    tokens_in, tokens_out, run.cost_usd = tracker_totals(usage, per_model)
    run.input_tokens = tokens_in if tokens_in is not None else run.input_tokens
    run.output_tokens = tokens_out if tokens_out is not None else run.output_tokens
    run.attributes |= {"usage_summary": usage, "per_model_cost": per_model or {}}
    run.priority = 1  # a summary knows more than a bare worker dump of the same worker
    return ParsedFile(format=NAME, runs=[run], events=events)


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime session summaries (worker, usage, cost, recoveries, events)",
    detect=detect,
    parse=parse,
)

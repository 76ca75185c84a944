"""techrevati-runtime AgentWorker dumps: one ``AgentWorker.to_dict()`` or a registry list.

A worker is one session's agent (``worker_id = <role>-<phase>-<8 hex>``), so it is a run of
its own, keyed by ``worker_id``; a session summary of the same worker adds to that run.
Its transitions (``events[]: seq, kind, status, timestamp, detail?``) become lifecycle
events. Nothing links a worker to an event stream (events carry no worker id).
"""

from __future__ import annotations

from typing import Any

from core.records import EventRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import FRAMEWORK, circuit_facts
from ingest.spec import FormatSpec

NAME = "techrevati.worker"
WORKER_KEYS = frozenset({"worker_id", "role", "phase", "status", "retry_count", "events"})
# A handoff target stays ``initializing`` until someone runs it: handed over, not started.
STATUS_MAP = {
    "idle": "unknown",
    "initializing": "paused",
    "waiting_for_input": "waiting",
    "running": "running",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "failed",
}
RULE = "a worker dump names its worker: one run per worker_id"


def is_worker(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() >= WORKER_KEYS


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    if isinstance(doc, list):
        return bool(doc) and is_worker(doc[0])
    return is_worker(doc)


def worker_records(
    worker: dict[str, Any], where: str, rule: str = RULE
) -> tuple[RunRecord, list[EventRecord]]:
    """The run a worker describes and its transitions as lifecycle events."""
    worker_id = worker.get("worker_id")
    if not isinstance(worker_id, str) or not worker_id.strip():
        raise ParseError(where, "worker field 'worker_id' must be a non-empty string")
    role = worker.get("role") if isinstance(worker.get("role"), str) else None
    events = []
    for item in worker.get("events") if isinstance(worker.get("events"), list) else []:
        if not isinstance(item, dict):
            continue
        events.append(
            EventRecord(
                framework=FRAMEWORK,
                run_native_id=worker_id,
                kind="lifecycle",
                name=f"worker.{item.get('kind')}",
                native_id=f"{worker_id}:{item.get('seq')}",
                at=parse_timestamp(item.get("timestamp")),
                agent_id=role,
                data={key: item[key] for key in ("seq", "status", "detail") if key in item},
            )
        )
    native_status = worker.get("status")
    status = STATUS_MAP.get(native_status, "unknown") if isinstance(native_status, str) else "unknown"
    last_error = worker.get("last_error") if isinstance(worker.get("last_error"), dict) else None
    failed = status == "failed"
    reason = (
        last_error.get("message")
        if failed and last_error
        else ("cancelled" if native_status == "cancelled" else None)
    )
    signals: dict[str, Any] = {}
    if failed:
        signals = {"status": native_status} | ({"last_error": last_error} if last_error else {})
        signals |= circuit_facts(reason)
        if isinstance(reason, str) and "budget exceeded" in reason.lower():
            signals["budget_exceeded"] = {"detail": reason}
    run = RunRecord(
        framework=FRAMEWORK,
        native_id=worker_id,
        as_of=parse_timestamp(worker.get("updated_at")),
        status=status,
        agents=[role] if role else [],
        started_at=parse_timestamp(worker.get("created_at")),
        ended_at=parse_timestamp(worker.get("updated_at")),
        failure_reason=reason,
        failure_signals=signals,
        attributes={
            "grouping_rule": rule,
            "source": where,
            "worker_id": worker_id,
            "native_status": native_status,
        }
        | {
            key: worker[key]
            for key in ("role", "phase", "project_id", "retry_count", "provider_used")
            if key in worker
        },
        inferred=["status"] if native_status == "initializing" else [],
    )
    return run, events


def parse(content: Content) -> ParsedFile:
    doc = content.json
    workers = doc if isinstance(doc, list) else [doc]
    parsed = ParsedFile(format=NAME)
    for index, worker in enumerate(workers):
        if not is_worker(worker):
            raise ParseError(content.path, f"element {index} is not an AgentWorker dump")
        run, events = worker_records(worker, str(content.path))
        parsed.runs.append(run)
        parsed.events.extend(events)
    return parsed


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime AgentWorker dumps (one worker or a registry list)",
    detect=detect,
    parse=parse,
)

"""techrevati-runtime records shared by its formats: AgentEvents, usage records, failure signals.

The package writes almost nothing to disk itself, so the same two shapes appear in several
containers (JSON arrays, JSON Lines, session summaries, SQLite rows, audit payloads):

* an AgentEvent dict (``event, type, status, emitted_at, role?, phase, project_id?,
  failure_class?, detail?, data?``; optional keys are omitted, never null);
* a usage record ``{recorded_at?, model, cost_usd, usage: UsageSnapshot}`` (one per turn).

Two more are shared by two formats each, so that no parser imports another: an AgentWorker
dump (a worker file, and the ``worker`` of a session summary) and the audit hash chain (an
audit-log export, and the ``audit_log`` table of a store).

Run identity: AgentEvents name no session, so the same session written to several sources
(a JSONL sink, an SQLite store, an audit log, a session summary) is recognised by its
content: a session's run id is its (role, phase, project_id) and the time of its first event
(``session_run_id``), an AgentEvent's id a digest of its own fields (``event_identity``) and a
usage record's id its place after the session's last event and a digest of its figures
(``usage_identity``). Sources of one session thus give one run and one copy of each record.

Failure facts stay under the package's own names: ``failure_class``, recovery ``scenario``
and ``outcome``, budget ``budget_usd``; Baton adds only ``circuit_breaker: "open"`` (an open
breaker emits no event of its own; it shows only in the failure text) and
``budget_exceeded`` (the budget event's detail and data).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson

from core.records import EventRecord, RunRecord
from core.timeutil import parse_timestamp
from ingest.errors import ParseError

FRAMEWORK = "techrevati"
WORKER_KEYS = frozenset({"worker_id", "role", "phase", "status", "retry_count", "events"})
# A handoff target stays ``initializing`` until someone runs it: handed over, not started.
WORKER_STATUS_MAP = {
    "idle": "unknown",
    "initializing": "paused",
    "waiting_for_input": "waiting",
    "running": "running",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "failed",
}
GENESIS = "0" * 64  # the prev_hash of the first audit record
_CIRCUIT = re.compile(r"Circuit breaker '(?P<name>[^']*)' is OPEN|CircuitOpenError")
_RECOVERY_DETAIL = re.compile(r"^(?P<scenario>[a-z_]+): (?P<outcome>[a-z_]+)$")
TOOL_EVENTS = ("agent.tool_called", "agent.tool_completed", "hook.pre_tool", "hook.post_tool")
EVENT_KEYS = frozenset(
    {
        "event",
        "type",
        "status",
        "emitted_at",
        "role",
        "phase",
        "project_id",
        "failure_class",
        "detail",
        "data",
    }
)


def session_key_text(role: Any, phase: Any, project: Any) -> str:
    """``<role>/<phase>/<project_id>`` (``-`` for a missing phase or project)."""
    return f"{role}/{phase or '-'}/{'-' if project is None else project}"


def session_run_id(key: tuple[Any, ...], first: dict[str, Any]) -> str:
    """The run id of a session: ``<role>/<phase>/<project_id>@<emitted_at of its first
    event with a role>`` (``session_key_text``), the same in every source."""
    return f"{session_key_text(*key)}@{first.get('emitted_at')}"


# A worker that never ran (a handoff target left ``initializing``) had no session to join.
NEVER_RAN = ("idle", "initializing")


def worker_join_keys(worker: dict[str, Any]) -> list[str]:
    """The session keys a worker that ran joins by (``RunRecord.join_keys``): its (role,
    phase, project_id), and the same without a project (0.1 events stamp none)."""
    role = worker.get("role")
    if not isinstance(role, str) or not role or worker.get("status") in NEVER_RAN:
        return []
    phase, project = worker.get("phase"), worker.get("project_id")
    keys = [session_key_text(role, phase, project)] if project is not None else []
    return [*keys, session_key_text(role, phase, None)]


def _digest(value: Any) -> str:
    try:
        raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        raw = repr(value).encode("utf-8", "replace")
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def event_identity(event: dict[str, Any]) -> str:
    """An AgentEvent's id from its own fields (what ``to_dict`` writes in every source; an
    audit payload's extra keys left out)."""
    return "ev:" + _digest({key: event[key] for key in EVENT_KEYS if key in event})


def usage_identity(record: dict[str, Any], anchor: str, index: int) -> str:
    """A usage record's id: the event it follows in its session (``anchor``), its place
    among the records since that event, and its figures (sinks stamp their own times, an
    audit payload none, so the time is left out)."""
    figures = {key: record.get(key) for key in ("model", "cost_usd", "usage")}
    return f"u:{anchor}:{index}:{_digest(figures)}"


def is_agent_event(value: Any) -> bool:
    """An ``AgentEvent.to_dict()``: ``type`` is the last dotted segment of ``event``."""
    if not isinstance(value, dict):
        return False
    name, short = value.get("event"), value.get("type")
    return (
        isinstance(name, str)
        and "." in name
        and isinstance(short, str)
        and name.rsplit(".", 1)[1] == short
        and "emitted_at" in value
        and "status" in value
    )


def is_usage_record(value: Any) -> bool:
    """A usage line ``{recorded_at?, model, cost_usd, usage: {input_tokens, output_tokens, ...}}``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("model"), str)
        and "cost_usd" in value
        and isinstance(value.get("usage"), dict)
        and "input_tokens" in value["usage"]
        and "output_tokens" in value["usage"]
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def tracker_totals(usage: dict[str, Any], per_model_cost: Any) -> tuple[int | None, int | None, float | None]:
    """Input tokens, output tokens and cost of a UsageTracker summary (also inside a session
    summary): the per-model costs summed when there are any, else ``total_cost_usd``."""
    costs = (
        [c for c in map(_float, per_model_cost.values()) if c is not None]
        if isinstance(per_model_cost, dict)
        else []
    )
    cost = total(costs) if costs else _float(usage.get("total_cost_usd"))
    return _int(usage.get("total_input_tokens")), _int(usage.get("total_output_tokens")), cost


def is_terminal(event: dict[str, Any]) -> bool:
    """The session ended: ``agent.completed``, a cancellation, or an ``agent.failed`` without
    ``data`` (with ``data`` it is a warning; the package's OTel sink uses the same rule)."""
    name = event.get("event")
    return (
        name == "agent.completed"
        or event.get("status") == "cancelled"
        or (name == "agent.failed" and not event.get("data"))
    )


def recovery_facts(event: dict[str, Any]) -> dict[str, Any]:
    """``scenario`` and ``outcome`` of a recovery event: from ``data`` (0.4) or, when the
    event has none (0.1), from its ``<scenario>: <outcome>`` detail."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    if "scenario" in data or "outcome" in data:
        return {key: data[key] for key in ("scenario", "outcome") if key in data}
    match = _RECOVERY_DETAIL.match(str(event.get("detail") or ""))
    return match.groupdict() | {"parsed_from": "detail"} if match else {}


def circuit_facts(text: Any) -> dict[str, Any]:
    match = _CIRCUIT.search(text) if isinstance(text, str) else None
    if not match:
        return {}
    return {"circuit_breaker": "open"} | ({"circuit_breaker_name": match["name"]} if match["name"] else {})


def budget_facts(event: dict[str, Any]) -> dict[str, Any] | None:
    """The budget event (0.1 class ``unknown``, 0.4 ``rate_limit``) or a terminal
    ``BudgetExceededError`` text; ``None`` for anything else."""
    detail = event.get("detail")
    if not isinstance(detail, str) or "budget exceeded" not in detail.lower():
        return None
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    return {"detail": detail} | data


def event_kind(event: dict[str, Any]) -> str:
    name = str(event.get("event"))
    if name == "agent.failed" or name == "governance.breach":
        return "error"
    if name.startswith("agent.recovery."):
        return "recovery"
    if name in TOOL_EVENTS:
        return "tool_call"
    data = event.get("data")
    if name == "agent.completed" and isinstance(data, dict) and "handoff" in data:
        return "handoff"
    if name.startswith(("agent.", "phase.")):
        return "lifecycle"
    return "custom"


def event_data(event: dict[str, Any]) -> dict[str, Any]:
    """The event's own fields (original names) plus the recovery/circuit/budget facts."""
    data = {
        key: event[key] for key in ("status", "project_id", "failure_class", "detail", "data") if key in event
    }
    data |= {key: value for key, value in event.items() if key not in EVENT_KEYS}  # e.g. reviewer_id
    if str(event.get("event")).startswith("agent.recovery."):
        data |= recovery_facts(event)
    if event.get("event") == "agent.failed":
        data |= circuit_facts(event.get("detail"))
        budget = budget_facts(event)
        if budget:
            data["budget_exceeded"] = budget
    return data


def event_record(run: str, event: dict[str, Any], native_id: str | None, agent: str | None) -> EventRecord:
    name = str(event.get("event"))
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    kind = event_kind(event)
    return EventRecord(
        framework=FRAMEWORK,
        run_native_id=run,
        kind=kind,
        name=name,
        native_id=native_id,
        at=parse_timestamp(event.get("emitted_at")),
        agent_id=event.get("role") or agent,
        tool=data.get("tool") if isinstance(data.get("tool"), str) else None,
        error=event.get("detail") if kind == "error" and isinstance(event.get("detail"), str) else None,
        data=event_data(event),
    )


def usage_record(
    run: str, record: dict[str, Any], native_id: str | None, agent: str | None, at: Any = None
) -> EventRecord:
    """One turn's usage: uncached input, output and cache tokens, and the cost the package
    computed (``cost_usd``; ``None`` when the source gives none)."""
    usage = record.get("usage") if isinstance(record.get("usage"), dict) else {}
    return EventRecord(
        framework=FRAMEWORK,
        run_native_id=run,
        kind="usage",
        name="usage.recorded",
        native_id=native_id,
        at=parse_timestamp(record.get("recorded_at", at)),
        agent_id=agent,
        model=record.get("model") if isinstance(record.get("model"), str) else None,
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_read_tokens=_int(usage.get("cache_read_tokens")),
        cache_write_tokens=_int(usage.get("cache_write_tokens")),
        cost_usd=_float(record.get("cost_usd")),
        data={"usage": usage},
    )


def total(values: list[int | float | None]) -> Any:
    """Sum of the known values; ``None`` when none is known (unknown is never zero)."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def is_worker(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() >= WORKER_KEYS


def worker_records(worker: dict[str, Any], where: str, rule: str) -> tuple[RunRecord, list[EventRecord]]:
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
    status = WORKER_STATUS_MAP.get(native_status, "unknown") if isinstance(native_status, str) else "unknown"
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
        ended_at=None if native_status == "running" else parse_timestamp(worker.get("updated_at")),
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


def record_hash(record: dict[str, Any]) -> str:
    body = {key: record.get(key) for key in ("sequence", "timestamp", "event_type", "payload", "prev_hash")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((str(record.get("prev_hash")) + canonical).encode("utf-8")).hexdigest()


def chain_state(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether each record links to the previous one and hashes to its ``record_hash``."""
    previous = GENESIS if records and records[0].get("sequence") == 0 else None
    for record in records:
        if (previous is not None and record.get("prev_hash") != previous) or record_hash(
            record
        ) != record.get("record_hash"):
            return {"records": len(records), "verified": False, "first_bad_sequence": record.get("sequence")}
        previous = record.get("record_hash")
    return {"records": len(records), "verified": True, "signed": any(r.get("signature") for r in records)}

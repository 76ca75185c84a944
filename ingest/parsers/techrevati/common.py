"""techrevati-runtime records shared by its formats: AgentEvents, usage records, failure signals.

The package writes almost nothing to disk itself, so the same two shapes appear in several
containers (JSON arrays, JSON Lines, session summaries, SQLite rows, audit payloads):

* an AgentEvent dict (``event, type, status, emitted_at, role?, phase, project_id?,
  failure_class?, detail?, data?``; optional keys are omitted, never null);
* a usage record ``{recorded_at?, model, cost_usd, usage: UsageSnapshot}`` (one per turn).

Failure facts stay under the package's own names: ``failure_class``, recovery ``scenario``
and ``outcome``, budget ``budget_usd``; Baton adds only ``circuit_breaker: "open"`` (an open
breaker emits no event of its own; it shows only in the failure text) and
``budget_exceeded`` (the budget event's detail and data).
"""

from __future__ import annotations

import re
from typing import Any

from core.records import EventRecord
from core.timeutil import parse_timestamp

FRAMEWORK = "techrevati"
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

"""Merge what several files say about one run into the run's fields.

Fragments are applied from the least to the most authoritative (priority, then the time
their information is from); a later non-empty value overwrites an earlier one. A fragment
with a status other than failed clears the failure reason and signals of earlier ones. Agents are
united in order of appearance, the start is the earliest and the end the latest. The files
the fragments name as their ``source`` are listed in ``attributes["sources"]`` (one session
recorded by several files is one run that lists them all).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OVERWRITE_FIELDS = (
    "status",
    "task",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "failure_reason",
)


def _order(fragment: dict[str, Any]) -> tuple[int, float]:
    as_of = fragment.get("as_of")
    return (
        fragment.get("priority") or 0,
        as_of.timestamp() if isinstance(as_of, datetime) else float("-inf"),
    )


def merge_fragments(fragments: list[dict[str, Any]]) -> dict[str, Any]:
    """``fragments`` are RunRecord dicts (with ``as_of`` as datetime). Returns run fields."""
    merged: dict[str, Any] = {name: None for name in OVERWRITE_FIELDS}
    agents: list[str] = []
    signals: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    sources: list[str] = []
    inferred_by_field: dict[str, bool] = {}
    starts: list[datetime] = []
    ends: list[datetime] = []
    for fragment in sorted(fragments, key=_order):
        inferred = set(fragment.get("inferred") or ())
        if fragment.get("status") not in (None, "", "failed", "unknown"):
            # The run moved on (resumed, completed): an earlier failure is history, not its state.
            merged["failure_reason"] = None
            signals.clear()
        for name in OVERWRITE_FIELDS:
            value = fragment.get(name)
            if value is not None and value != "":
                merged[name] = value
                inferred_by_field[name] = name in inferred
        for agent in fragment.get("agents") or ():
            if agent not in agents:
                agents.append(agent)
        signals.update(fragment.get("failure_signals") or {})
        attributes.update(fragment.get("attributes") or {})
        source = attributes.get("source")
        if isinstance(source, str) and source not in sources:
            sources.append(source)
        if fragment.get("started_at"):
            starts.append(fragment["started_at"])
        if fragment.get("ended_at"):
            ends.append(fragment["ended_at"])
    if len(sources) > 1:
        attributes["sources"] = sorted(sources)
    merged.update(
        agents=agents,
        failure_signals=signals,
        attributes=attributes,
        inferred=sorted(name for name, flag in inferred_by_field.items() if flag),
        started_at=min(starts) if starts else None,
        ended_at=max(ends) if ends else None,
    )
    merged["status"] = merged["status"] or "unknown"
    return merged

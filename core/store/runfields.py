"""A run's derived fields: merged fragments plus checkpoint and event totals.

One function for both ways a run is computed: from rows read back from the database (a
run that already existed) and from a write batch's own rows (a run first seen in it, which
needs no read-back: the cold-ingest fast path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.store.runmerge import merge_fragments
from core.timeutil import parse_timestamp, utcnow

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")


@dataclass(slots=True)
class EventTotals:
    """What a run's events add up to (sums are None when no event reported the field)."""

    count: int
    sums: tuple[Any, ...]  # in TOKEN_FIELDS order
    first_at: datetime | None
    last_at: datetime | None


def totals_of(events: Sequence[dict[str, Any]]) -> EventTotals:
    """The totals of event rows held in memory (the same figures as SQL SUM/MIN/MAX)."""
    sums: list[Any] = []
    for name in TOKEN_FIELDS:
        values = [event[name] for event in events if event[name] is not None]
        sums.append(sum(values) if values else None)
    times = [event["at"] for event in events if event["at"] is not None]
    return EventTotals(len(events), tuple(sums), min(times, default=None), max(times, default=None))


def run_fields(
    fragments: list[dict[str, Any]], checkpoint_count: int, totals: EventTotals | None
) -> dict[str, Any]:
    """The run table's derived columns. ``fragments`` are RunRecord dicts with datetimes."""
    merged = merge_fragments(fragments)
    if totals is not None:
        for name, total in zip(TOKEN_FIELDS, totals.sums, strict=True):
            if merged[name] is None and total is not None:
                merged[name] = total
        starts = [t for t in (merged["started_at"], parse_timestamp(totals.first_at)) if t]
        ends = [t for t in (merged["ended_at"], parse_timestamp(totals.last_at)) if t]
        merged["started_at"] = min(starts) if starts else None
        merged["ended_at"] = max(ends) if ends else None
    merged["reported_cost_usd"] = merged.pop("cost_usd")
    merged.update(
        checkpoint_count=checkpoint_count,
        event_count=totals.count if totals else 0,
        updated_at=utcnow(),
    )
    return merged

"""A run's events in time order, nested where the source nests them.

An event whose ``parent_native_id`` names another event of the run is placed right under
it (depth + 1); siblings keep time order. Events whose parent is unknown stay at the top
level. The whole ordering is computed from light columns; the bulky ``data`` document is
read only for the events of the page shown (or one event on demand).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.tables import Event

LIGHT_COLUMNS = (
    "id",
    "seq",
    "native_id",
    "parent_native_id",
    "kind",
    "name",
    "at",
    "agent_id",
    "step",
    "tool",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "duration_s",
    "error",
)


@dataclass(slots=True)
class Timeline:
    rows: list[dict[str, Any]] = field(default_factory=list)  # the page, each with "depth"
    total: int = 0  # events matching the filter
    kinds: dict[str, int] = field(default_factory=dict)  # all events of the run by kind
    errors: int = 0


def _sort_key(row: dict[str, Any]) -> tuple[float, int]:
    at = row["at"]
    return (at.timestamp() if isinstance(at, datetime) else float("inf"), row["seq"])


def nest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Depth-first order with a ``depth`` on each row (cycles in the source are cut)."""
    rows = sorted(rows, key=_sort_key)
    by_native = {row["native_id"]: row for row in rows if row["native_id"]}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        parent = row["parent_native_id"]
        key = parent if parent in by_native and parent != row["native_id"] else None
        children.setdefault(key, []).append(row)
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(top: dict[str, Any]) -> None:
        stack = [(top, 0)]
        while stack:
            row, depth = stack.pop()
            if row["id"] in placed:
                continue
            placed.add(row["id"])
            ordered.append(row | {"depth": depth})
            if row["native_id"]:
                stack.extend((kid, depth + 1) for kid in reversed(children.get(row["native_id"], [])))

    for row in children.get(None, []):
        place(row)
    for row in rows:  # only reachable through a parent cycle
        if row["id"] not in placed:
            place(row)
    return ordered


def run_timeline(
    engine: Engine,
    run_id: str,
    kinds: tuple[str, ...] = (),
    errors_only: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> Timeline:
    """One page of the run's nested timeline, filtered by kind and/or to errors."""
    columns = [getattr(Event, name) for name in LIGHT_COLUMNS]
    with engine.connect() as connection:
        rows = [
            dict(row._mapping) for row in connection.execute(select(*columns).where(Event.run_id == run_id))
        ]
        counts = dict(
            connection.execute(
                select(Event.kind, func.count()).where(Event.run_id == run_id).group_by(Event.kind)
            ).all()
        )
    ordered = nest(rows)
    if kinds:
        ordered = [row for row in ordered if row["kind"] in kinds]
    if errors_only:
        ordered = [row for row in ordered if row["error"] or row["kind"] == "error"]
    errors = sum(1 for row in rows if row["error"] or row["kind"] == "error")
    page = ordered[max(0, offset) : max(0, offset) + limit]
    return Timeline(rows=page, total=len(ordered), kinds=dict(sorted(counts.items())), errors=errors)


def event_data(engine: Engine, event_id: str) -> Any:
    """The event's original payload as the source recorded it."""
    with engine.connect() as connection:
        return connection.execute(select(Event.data).where(Event.id == event_id)).scalar()

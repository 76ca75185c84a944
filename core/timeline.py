"""A run's events in time order, nested where the source nests them.

An event whose ``parent_native_id`` names another event of the run is placed right under
it (depth + 1); siblings keep time order. Events whose parent is unknown stay at the top
level.

Paged in the database: :func:`run_order` reads only what nesting needs (ids, native and
parent ids, kind, whether it failed; the database sorts them by time) and computes the
whole nested order; :func:`order_page` then reads the full rows of one page alone. A
caller showing several pages of one run (the dashboard) keeps the :class:`Order`; the
bulky ``data`` document is read only for one event on demand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
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


@dataclass(slots=True)
class Order:
    """A run's whole timeline in nested order, without the rows themselves: position i is
    event ``ids[i]`` at ``depths[i]``, of kind ``kinds[i]``, failed when ``failed[i]``."""

    ids: list[str] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    failed: list[bool] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.kinds).items()))

    def errors(self) -> int:
        return sum(self.failed)

    def matching(self, kinds: tuple[str, ...] = (), errors_only: bool = False) -> list[int]:
        """Positions of the events that pass the filter, in nested order."""
        wanted = set(kinds)
        return [
            i
            for i in range(len(self.ids))
            if (not wanted or self.kinds[i] in wanted) and (not errors_only or self.failed[i])
        ]


def _sort_key(row: dict[str, Any]) -> tuple[float, int]:
    at = row["at"]
    return (at.timestamp() if isinstance(at, datetime) else float("inf"), row["seq"])


def _nested(links: Sequence[tuple[Any, str | None, str | None]]) -> list[tuple[int, int]]:
    """(position, depth) of every item in depth-first order. ``links`` holds (unique key,
    native id, parent native id) per item, already in time order; cycles are cut."""
    known = {native for _, native, _ in links if native}
    children: dict[str | None, list[int]] = {}
    for n, (_, native, parent) in enumerate(links):
        key = parent if parent in known and parent != native else None
        children.setdefault(key, []).append(n)
    ordered: list[tuple[int, int]] = []
    placed: set[Any] = set()

    def place(top: int) -> None:
        stack = [(top, 0)]
        while stack:
            n, depth = stack.pop()
            key, native, _ = links[n]
            if key in placed:
                continue
            placed.add(key)
            ordered.append((n, depth))
            if native:
                stack.extend((kid, depth + 1) for kid in reversed(children.get(native, ())))

    for n in children.get(None, ()):
        place(n)
    for n, link in enumerate(links):  # only reachable through a parent cycle
        if link[0] not in placed:
            place(n)
    return ordered


def nest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Depth-first order with a ``depth`` on each row (cycles in the source are cut)."""
    rows = sorted(rows, key=_sort_key)
    links = [(row["id"], row["native_id"], row["parent_native_id"]) for row in rows]
    return [rows[n] | {"depth": depth} for n, depth in _nested(links)]


def run_order(engine: Engine, run_id: str) -> Order:
    """The run's whole nested order, from the few columns nesting needs (time order from
    the database: by ``at``, events without a time last, then ``seq``)."""
    query = (
        select(
            Event.id,
            Event.native_id,
            Event.parent_native_id,
            Event.kind,
            and_(Event.error.is_not(None), Event.error != ""),
        )
        .where(Event.run_id == run_id)
        .order_by(Event.at.asc().nulls_last(), Event.seq, Event.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    order = Order()
    for n, depth in _nested([(row[0], row[1], row[2]) for row in rows]):
        row = rows[n]
        order.ids.append(row[0])
        order.depths.append(depth)
        order.kinds.append(row[3])
        order.failed.append(bool(row[4]) or row[3] == "error")
    return order


def event_rows(engine: Engine, event_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The light columns (no ``data``) of these events, by id."""
    columns = [getattr(Event, name) for name in LIGHT_COLUMNS]
    ids = list(event_ids)
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            query = select(*columns).where(Event.id.in_(ids[start : start + 500]))
            found.update((row.id, dict(row._mapping)) for row in connection.execute(query))
    return found


def order_page(
    engine: Engine,
    order: Order,
    kinds: tuple[str, ...] = (),
    errors_only: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> Timeline:
    """One page of a run's nested timeline: only the page's rows are read."""
    matching = order.matching(kinds, errors_only)
    page = matching[max(0, offset) : max(0, offset) + max(0, limit)]
    rows = event_rows(engine, (order.ids[i] for i in page))
    shown = [rows[order.ids[i]] | {"depth": order.depths[i]} for i in page if order.ids[i] in rows]
    return Timeline(rows=shown, total=len(matching), kinds=order.counts(), errors=order.errors())


def run_timeline(
    engine: Engine,
    run_id: str,
    kinds: tuple[str, ...] = (),
    errors_only: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> Timeline:
    """One page of the run's nested timeline, filtered by kind and/or to errors."""
    return order_page(engine, run_order(engine, run_id), kinds, errors_only, offset, limit)


def event_data(engine: Engine, event_id: str) -> Any:
    """The event's original payload as the source recorded it."""
    with engine.connect() as connection:
        return connection.execute(select(Event.data).where(Event.id == event_id)).scalar()

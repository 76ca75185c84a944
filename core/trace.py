"""A run's events as a trace tree (over ``core.timeline.Order``): which rows to show when
subtrees are collapsed, errors with the path of their parents, a search within the run, and
each row's offset and length for a waterfall of durations.

An Order lists events depth first, so an event's parent is the nearest earlier event one
level up, and its subtree is the run of later events deeper than it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from core.tables import Event
from core.timeline import Order

SEARCHED = (Event.name, Event.error, Event.tool, Event.step, Event.model, Event.agent_id, Event.kind)


def parents(depths: list[int]) -> list[int]:
    """Position of each event's parent (-1 at the top level)."""
    path: list[int] = []  # path[d]: the latest event at depth d
    found: list[int] = []
    for position, depth in enumerate(depths):
        del path[depth:]
        found.append(path[-1] if path and depth > 0 else -1)
        path.append(position)
    return found


def has_children(depths: list[int]) -> list[bool]:
    return [i + 1 < len(depths) and depths[i + 1] > depths[i] for i in range(len(depths))]


def with_ancestors(positions: list[int], depths: list[int]) -> list[tuple[int, bool]]:
    """``positions`` with every ancestor of each, in tree order: (position, is_context),
    is_context True for an ancestor shown only as the path to a match."""
    up = parents(depths)
    wanted = set(positions)
    context: set[int] = set()
    for position in positions:
        parent = up[position]
        while parent >= 0 and parent not in wanted and parent not in context:
            context.add(parent)
            parent = up[parent]
    return [(p, p in context) for p in sorted(wanted | context)]


def visible(
    order: Order,
    kinds: tuple[str, ...] = (),
    errors_only: bool = False,
    matches: set[str] | None = None,
    collapsed: frozenset[str] = frozenset(),
) -> list[tuple[int, bool]]:
    """The rows to show, in tree order: (position, is_context).

    Errors only and a search (``matches``: ids found) pick events and bring their parents
    along as context (the path to each); kinds alone pick events without context; with none
    of them, every event shows except those under a collapsed one."""
    if kinds or errors_only or matches is not None:
        picked = [i for i in order.matching(kinds, errors_only) if matches is None or order.ids[i] in matches]
        if not errors_only and matches is None:
            return [(i, False) for i in picked]
        return with_ancestors(picked, order.depths)
    shown: list[tuple[int, bool]] = []
    hide_below: int | None = None
    for i, depth in enumerate(order.depths):
        if hide_below is not None:
            if depth > hide_below:
                continue
            hide_below = None
        shown.append((i, False))
        if order.ids[i] in collapsed:
            hide_below = depth
    return shown


def search(engine: Engine, run_id: str, text: str) -> set[str]:
    """Ids of the run's events whose name, error, tool, step, model, agent or kind contains
    ``text`` (case-insensitive; ``%`` and ``_`` are literal)."""
    text = text.strip()
    if not text:
        return set()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    query = select(Event.id).where(
        Event.run_id == run_id, or_(*(column.ilike(pattern, escape="\\") for column in SEARCHED))
    )
    with engine.connect() as connection:
        return set(connection.execute(query).scalars())


def _seconds(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value.timestamp() if isinstance(value, datetime) else None


def waterfall(rows: list[dict[str, Any]], start: Any = None) -> list[tuple[float | None, float]]:
    """(offset in seconds from ``start`` (else the first timed row), duration in seconds) of
    each row; offset None for an event without a time, duration 0 when none is recorded."""
    times = [_seconds(row.get("at")) for row in rows]
    origin = _seconds(start)
    if origin is None:
        origin = min((t for t in times if t is not None), default=None)
    found = []
    for row, at in zip(rows, times, strict=True):
        duration = row.get("duration_s")
        length = float(duration) if isinstance(duration, int | float) and duration > 0 else 0.0
        found.append((None if at is None or origin is None else at - origin, length))
    return found

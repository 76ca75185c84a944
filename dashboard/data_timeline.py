"""The Run page's Timeline through the data layer: the run's nested event order (cached by
data version) and a page of it, its model calls priced as the run's totals are."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from core import timeline, trace
from core.costs import event_costs
from core.prices import PriceBook, load_price_book
from dashboard.freshness import engine as _engine
from dashboard.freshness import get_engine
from dashboard.freshness import key as _key

TTL = None


def reported_only(rows: list[dict[str, Any]]) -> None:
    """Cost provenance before (or without) pricing, the one rule for every page: a cost the
    source reported is "reported", a reported $0 included; no reported cost has none."""
    for row in rows:
        row["cost_provenance"] = "reported" if row["cost_usd"] is not None else None


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _timeline_order(key: tuple[str, Any], run_id: str) -> timeline.Order:
    """The run's whole nested order (light): paging and filtering reuse it."""
    return timeline.run_order(_engine(key[0]), run_id)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _search(key: tuple[str, Any], run_id: str, text: str) -> frozenset[str]:
    return frozenset(trace.search(_engine(key[0]), run_id, text))


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _timeline(
    key: tuple[str, Any],
    prices: str | None,
    run_id: str,
    kinds: tuple[str, ...],
    errors_only: bool,
    offset: int,
    limit: int,
    text: str,
    collapsed: tuple[str, ...],
    _book: PriceBook | None,
) -> dict[str, Any]:
    engine = _engine(key[0])
    order = _timeline_order(key, run_id)
    matches = set(_search(key, run_id, text)) if text.strip() else None
    shown = trace.visible(order, kinds, errors_only, matches, frozenset(collapsed))
    page = shown[max(0, offset) : max(0, offset) + max(0, limit)]
    found = timeline.event_rows(engine, (order.ids[i] for i, _ in page))
    branches = trace.has_children(order.depths)
    rows = [
        found[order.ids[i]]
        | {
            "depth": order.depths[i],
            "context": context,
            "has_children": branches[i],
            "collapsed": order.ids[i] in collapsed,
        }
        for i, context in page
        if order.ids[i] in found
    ]
    note = _price_events(engine, run_id, rows, _book)
    return {
        "rows": rows,
        "total": len(shown),
        "matches": sum(1 for _, context in shown if not context),
        "kinds": order.counts(),
        "errors": order.errors(),
        "events": len(order.ids),
        "cost_note": note,
    }


def _price_events(
    engine: Engine, run_id: str, rows: list[dict[str, Any]], book: PriceBook | None
) -> str | None:
    """Give model calls on the page their cost and provenance (reported, computed, unpriced),
    priced by core.costs like the run's totals."""
    reported_only(rows)
    if book is None:
        return "Computed costs per call are not available; reported costs only."
    calls = [row["id"] for row in rows if row["kind"] in ("llm_call", "usage")]
    if not calls:
        return None
    try:
        priced = event_costs(engine, run_id, calls, book)
    except Exception as exc:  # pricing failing: reported costs only
        return f"Computed costs per call are not available ({exc.__class__.__name__}); reported costs only."
    for row in rows:
        cost = priced.get(row["id"])
        if cost is not None:
            row["cost_usd"], row["cost_provenance"] = cost.cost_usd, cost.provenance
    return None


def events(
    run_id: str,
    kinds: tuple[str, ...] = (),
    errors_only: bool = False,
    offset: int = 0,
    limit: int = 200,
    text: str = "",
    collapsed: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A page of the run's trace tree (model calls with their cost): rows with ``depth``,
    ``has_children``, ``collapsed`` and ``context`` (a parent shown as the path to an event
    that kinds, errors only or the search ``text`` picked). ``collapsed`` hides the events
    under those ids; ``total`` rows in all, ``matches`` of them picked."""
    key = _key()
    try:
        book = load_price_book(_engine(key[0]))
    except Exception:  # prices failing to load: the page still lists the events
        book = None
    fingerprint = book.fingerprint() if book is not None else None
    return _timeline(
        key, fingerprint, run_id, kinds, errors_only, offset, limit, text, tuple(sorted(collapsed)), book
    )


def event_data(event_id: str) -> Any:
    return timeline.event_data(get_engine(), event_id)

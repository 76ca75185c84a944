"""A run's events as a trace tree: errors only with each error's path of parents, collapse,
search within the run, and the waterfall's offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from core import ids, timeline, trace
from core.tables import Event, Run

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _run(engine: Engine) -> str:
    run_id = ids.run_id("harness", "trace-run")
    # agent > (llm, tool > (search failed), llm) ; second agent
    tree = [
        ("a", None, "agent_step", "plan", None),
        ("b", "a", "llm_call", "think", None),
        ("c", "a", "tool_call", "web_search", None),
        ("d", "c", "error", "search failed", "HTTP 503 from the search API"),
        ("e", "a", "llm_call", "answer", None),
        ("f", None, "agent_step", "review", None),
    ]
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.insert(), [{"id": run_id, "framework": "harness", "native_id": "trace-run"}]
        )
        connection.execute(
            Event.__table__.insert(),
            [
                {
                    "id": ids.event_id(run_id, native, "t", n),
                    "run_id": run_id,
                    "seq": n,
                    "native_id": native,
                    "parent_native_id": parent,
                    "kind": kind,
                    "name": name,
                    "at": START + timedelta(seconds=n),
                    "duration_s": 0.5 if kind != "agent_step" else 4.0,
                    "error": error,
                }
                for n, (native, parent, kind, name, error) in enumerate(tree)
            ],
        )
    return run_id


def _names(engine: Engine, order: timeline.Order, shown: list[tuple[int, bool]]) -> list[tuple[str, bool]]:
    rows = timeline.event_rows(engine, [order.ids[i] for i, _ in shown])
    return [(rows[order.ids[i]]["name"], context) for i, context in shown]


def test_errors_only_shows_each_error_with_its_parents(engine: Engine) -> None:
    run_id = _run(engine)
    order = timeline.run_order(engine, run_id)
    shown = trace.visible(order, errors_only=True)
    assert _names(engine, order, shown) == [("plan", True), ("web_search", True), ("search failed", False)]


def test_collapsing_an_event_hides_its_subtree_only(engine: Engine) -> None:
    run_id = _run(engine)
    order = timeline.run_order(engine, run_id)
    everything = _names(engine, order, trace.visible(order))
    assert [n for n, _ in everything] == ["plan", "think", "web_search", "search failed", "answer", "review"]
    tool = order.ids[2]
    collapsed = _names(engine, order, trace.visible(order, collapsed=frozenset({tool})))
    assert [n for n, _ in collapsed] == ["plan", "think", "web_search", "answer", "review"]
    assert trace.has_children(order.depths)[2] and not trace.has_children(order.depths)[1]


def test_search_finds_events_by_error_text_and_brings_their_path(engine: Engine) -> None:
    run_id = _run(engine)
    order = timeline.run_order(engine, run_id)
    found = trace.search(engine, run_id, "http 503")
    assert _names(engine, order, trace.visible(order, matches=found)) == [
        ("plan", True),
        ("web_search", True),
        ("search failed", False),
    ]
    assert trace.search(engine, run_id, "100%") == set()
    rows = list(timeline.event_rows(engine, order.ids).values())
    rows.sort(key=lambda r: r["seq"])
    assert trace.waterfall(rows, START)[3] == (3.0, 0.5)

"""The timeline is paged in the database: every page of every filter must hold exactly the
events the whole nested order puts there (written out by hand below), with nothing from
another run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from core import ids
from core.tables import Event, Run
from core.timeline import run_order, run_timeline

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# native id, parent native id, seconds after BASE (None: no time), seq, kind, error
EVENTS = [
    ("late", None, None, 9, "step", None),
    ("cyc2", "cyc1", 6, 7, "step", None),
    ("a1", "a", 2, 1, "llm_call", "rate limit"),
    ("b", None, 1, 4, "step", None),
    ("empty-err", "b", 2, 10, "tool_call", ""),  # an empty error text is no error
    ("a", None, 0, 0, "step", None),
    ("self", "self", 4, 8, "step", None),  # its own parent: top level
    ("c", "zz", 1, 3, "step", None),  # parent not in the run: top level
    ("a2x", "a2", 3, 3, "error", "boom"),
    ("b-usage", "b", 2, 5, "usage", None),
    ("cyc1", "cyc2", 5, 6, "step", None),  # a parent cycle: placed after everything else
    ("a2", "a", 1, 2, "tool_call", None),
]
# The whole timeline as a user reads it: (name, depth), worked out by hand. Top-level events
# in time order (ties by seq, no time last), each followed by its subtree in time order.
NESTED = [
    ("a", 0),
    ("a2", 1),
    ("a2x", 2),
    ("a1", 1),
    ("c", 0),
    ("b", 0),
    ("b-usage", 1),
    ("empty-err", 1),
    ("self", 0),
    ("late", 0),
    ("cyc1", 0),
    ("cyc2", 1),
]


@pytest.fixture
def run_id(engine: Engine) -> str:
    run = ids.run_id("harness", "paged")
    other = ids.run_id("harness", "other")
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.insert(),
            [
                {"id": run, "framework": "harness", "native_id": "paged"},
                {"id": other, "framework": "harness", "native_id": "other"},
            ],
        )
        rows = [
            {
                "id": ids.event_id(run, native, "test", n),
                "run_id": run,
                "seq": seq,
                "native_id": native,
                "parent_native_id": parent,
                "kind": kind,
                "name": native,
                "at": None if offset is None else BASE + timedelta(seconds=offset),
                "error": error,
            }
            for n, (native, parent, offset, seq, kind, error) in enumerate(EVENTS)
        ]
        # Another run's events share native ids and times; none may show up in this run.
        rows += [
            {
                "id": ids.event_id(other, native, "test", n),
                "run_id": other,
                "seq": n,
                "native_id": native,
                "parent_native_id": "a",
                "kind": "error",
                "name": f"other {native}",
                "at": BASE,
                "error": "not this run",
            }
            for n, native in enumerate(["a", "x", "y"])
        ]
        connection.execute(Event.__table__.insert(), rows)
    return run


def shown(engine: Engine, run_id: str, **kwargs: object) -> list[tuple[str, int]]:
    return [(row["name"], row["depth"]) for row in run_timeline(engine, run_id, **kwargs).rows]


def test_every_page_holds_its_slice_of_the_nested_order(engine: Engine, run_id: str) -> None:
    assert shown(engine, run_id, limit=100) == NESTED
    for limit in range(1, len(NESTED) + 1):
        for offset in range(len(NESTED) + 1):
            page = run_timeline(engine, run_id, offset=offset, limit=limit)
            assert [(r["name"], r["depth"]) for r in page.rows] == NESTED[offset : offset + limit]
            assert page.total == len(NESTED)


def test_filters_page_the_filtered_order_and_count_the_whole_run(engine: Engine, run_id: str) -> None:
    errors = [(name, depth) for name, depth in NESTED if name in ("a2x", "a1")]
    assert shown(engine, run_id, errors_only=True) == errors
    assert shown(engine, run_id, errors_only=True, offset=1, limit=1) == errors[1:]
    calls = shown(engine, run_id, kinds=("llm_call", "usage"))
    assert calls == [("a1", 1), ("b-usage", 1)]
    page = run_timeline(engine, run_id, kinds=("step",), offset=2, limit=3)
    steps = [(n, d) for n, d in NESTED if n in ("a", "c", "b", "self", "late", "cyc1", "cyc2")]
    assert [(r["name"], r["depth"]) for r in page.rows] == steps[2:5]
    assert page.total == len(steps)
    assert page.kinds == {"error": 1, "llm_call": 1, "step": 7, "tool_call": 2, "usage": 1}
    assert page.errors == 2


def test_a_page_reads_full_rows_and_the_order_keeps_light_columns(engine: Engine, run_id: str) -> None:
    order = run_order(engine, run_id)
    assert len(order.ids) == len(NESTED) and order.depths == [d for _, d in NESTED]
    row = run_timeline(engine, run_id, offset=3, limit=1).rows[0]
    assert (row["name"], row["kind"], row["error"], row["at"]) == (
        "a1",
        "llm_call",
        "rate limit",
        BASE + timedelta(seconds=2),
    )
    assert "data" not in row  # the bulky payload is read for one event on demand only

"""What the dashboard's speed-ups must never change: costs through the data module's cache
equal core's own, an edited prices file shows on the next rerun, the timeline's pages hold
the right nested events, and new data shows on the next rerun."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import costs, ids, queries
from core.db import make_engine
from core.store import Store
from core.tables import Event, Run
from dashboard import data, ui
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS
from tests.dashboard.test_pages import open_page, texts

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def prices_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "prices.toml"
    monkeypatch.setenv("BATON_PRICES", str(path))
    return path


def write_prices(path: Path, models: dict[str, dict[str, float]]) -> None:
    path.write_text(
        "".join(
            f'[models."{name}"]\n' + "".join(f"{k} = {v}\n" for k, v in rates.items())
            for name, rates in models.items()
        ),
        encoding="utf-8",
    )


@pytest.fixture
def samples(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = make_engine(db_url)
    ingest_paths([SAMPLE_RUNS], Store(engine))
    monkeypatch.setenv("BATON_DB_URL", db_url)
    empty = tmp_path / "not_watched"
    empty.mkdir()
    monkeypatch.setenv("BATON_WATCH", str(empty))
    yield engine
    engine.dispose()


def test_costs_through_the_cache_equal_core_costs(samples: Engine, prices_file: Path) -> None:
    write_prices(prices_file, {"llama3.1": {"input": 1, "output": 2}, "gpt-4o": {"input": 3, "output": 9}})
    runs = queries.list_runs(samples)
    expected = {k: v.to_dict() for k, v in costs.run_costs(samples, [r["id"] for r in runs]).items()}
    assert any(s["provenance"] == "computed" for s in expected.values())
    assert any(s["provenance"] == "reported" for s in expected.values())
    for attempt in range(2):  # priced, then from the cache
        page = data.search_runs(data.RunFilter(), page_size=500)
        assert page["total"] == len(runs) and len(page["rows"]) == len(runs)
        for row in page["rows"]:
            summary = expected.get(row["id"])
            if summary is None:  # no model calls: the reported figure, if any
                assert row["cost_provenance"] == ("reported" if row["cost_usd"] else None), attempt
            else:
                assert (row["cost_usd"], row["cost_provenance"]) == (
                    summary["cost_usd"],
                    summary["provenance"],
                ), attempt
        for run_id, summary in expected.items():
            # summed in SQL from stored parts: the money equal up to float rounding
            cost = data.run(run_id)["cost"]
            money = ("cost_usd", "computed_usd", "reported_usd")
            assert {k: v for k, v in cost.items() if k not in money} == {
                k: v for k, v in summary.items() if k not in money
            }, attempt
            for key in money:
                assert cost[key] == (None if summary[key] is None else pytest.approx(summary[key])), attempt


def _digest(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(
            select(Run.id).where(Run.framework == "loopengt", Run.task == "weekly-digest")
        ).scalar_one()


def test_an_edited_prices_file_changes_the_cost_on_the_next_rerun(samples: Engine, prices_file: Path) -> None:
    digest = _digest(samples)  # llama3.1:8b: no public price
    write_prices(prices_file, {"llama3.1:8b": {"input": 1, "output": 2}})
    first = costs.run_costs(samples, [digest])[digest].cost_usd
    at = open_page("views/run.py", run=digest)
    assert {m.label: m.value for m in at.metric}["Cost"] == ui.money(first, "computed")
    write_prices(prices_file, {"llama3.1:8b": {"input": 10, "output": 20}})
    second = costs.run_costs(samples, [digest])[digest].cost_usd
    assert ui.money(second, "computed") != ui.money(first, "computed")
    at.run()  # at once: no restart, no cache expiry, the data version is unchanged
    assert {m.label: m.value for m in at.metric}["Cost"] == ui.money(second, "computed")
    prices_file.unlink()
    at.run()
    assert {m.label: m.value for m in at.metric}["Cost"] == "unpriced"


def test_new_data_shows_on_the_next_rerun(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    ingest_paths([SAMPLE_RUNS / "acf"], Store(engine))
    monkeypatch.setenv("BATON_DB_URL", db_url)
    empty = tmp_path / "not_watched"
    empty.mkdir()
    monkeypatch.setenv("BATON_WATCH", str(empty))
    at = open_page("views/runs.py")
    before = len(queries.list_runs(engine))
    assert f"{before:,} runs" in texts(at)
    ingest_paths([SAMPLE_RUNS / "loopengt"], Store(engine))  # another process's commit
    after = len(queries.list_runs(engine))
    assert after > before
    at.run()
    assert f"{after:,} runs" in texts(at)
    engine.dispose()


# -- the timeline, paged ---------------------------------------------------------------------------
TOPS = 150  # three events each: 450 events, three pages of 200


@pytest.fixture
def nested_run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A run whose top-level events each have two children written out of time order, plus
    one model call with 1-hour cache writes."""
    engine = make_engine(db_url)
    run_id = ids.run_id("techrevati", "nested")
    rows = []
    for i in range(TOPS):
        at = BASE + timedelta(seconds=10 * i)
        for native, parent, offset in (
            (f"top {i}", None, 0),
            (f"late {i}", f"top {i}", 2),
            (f"early {i}", f"top {i}", 1),
        ):
            rows.append(
                {
                    "id": f"{run_id}:{native}",
                    "run_id": run_id,
                    "native_id": native,
                    "parent_native_id": parent,
                    "kind": "step",
                    "name": native,
                    "at": at + timedelta(seconds=offset),
                    "model": None,  # every row has every key: one executemany
                    "cache_write_tokens": None,
                    "data": None,
                }
            )
    rows[-1] |= {  # "early 149"
        "kind": "llm_call",
        "model": "my-model",
        "cache_write_tokens": 1000,
        "data": {"cache_ttl": "1h"},
    }
    random.Random(3).shuffle(rows)
    for seq, row in enumerate(rows):
        row["seq"] = seq
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.insert(),
            [{"id": run_id, "framework": "techrevati", "native_id": "nested", "event_count": len(rows)}],
        )
        connection.execute(Event.__table__.insert(), rows)
    engine.dispose()
    monkeypatch.setenv("BATON_DB_URL", db_url)
    empty = tmp_path / "not_watched"
    empty.mkdir()
    monkeypatch.setenv("BATON_WATCH", str(empty))
    return run_id


def expected_rows() -> list[str]:
    """The event column as the table shows it: each top, then its children by time."""
    shown = []
    for i in range(TOPS):
        shown += [f"top {i}", f"   ↳ early {i}", f"   ↳ late {i}"]
    return shown


def test_timeline_page_two_shows_the_right_nested_events(nested_run: str) -> None:
    at = open_page("views/run.py", run=nested_run, tab="Timeline")
    assert "450 events" in texts(at)
    assert list(at.dataframe[-1].value["event"]) == expected_rows()[:200]
    at.number_input(key="timeline_page").set_value(2).run()
    assert list(at.dataframe[-1].value["event"]) == expected_rows()[200:400]
    at.number_input(key="timeline_page").set_value(3).run()
    assert list(at.dataframe[-1].value["event"]) == expected_rows()[400:]
    at.multiselect(key="timeline_kinds").select("llm_call").run()
    assert list(at.dataframe[-1].value["event"]) == [f"   ↳ early {TOPS - 1}"]


def test_timeline_prices_one_hour_cache_writes_at_their_rate(nested_run: str, prices_file: Path) -> None:
    write_prices(
        prices_file, {"my-model": {"input": 1, "output": 2, "cache_write": 10, "cache_write_1h": 20}}
    )
    at = open_page("views/run.py", run=nested_run, tab="Timeline")
    at.multiselect(key="timeline_kinds").select("llm_call").run()
    table = at.dataframe[-1].value
    assert list(table["cost"]) == ["$0.02"]  # 1,000 tokens at $20/M, not the 5-minute $10/M

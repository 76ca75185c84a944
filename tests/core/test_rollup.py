"""The rollup rows the dashboard aggregates in SQL give exactly the figures of core.costs and
core.failures, and follow the data: a changed file, a removed run, an edited prices file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from core import costs, rollup, run_search
from core.db import make_engine
from core.failures import failed_runs
from core.migrations import MIGRATIONS
from core.prices import PriceBook, load_price_book
from core.store import Store
from core.tables import RollupState, RunRollup
from core.tables import Run as RunTable
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS


def _same(a: dict, b: dict) -> None:
    for name in (
        "key",
        "calls",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "provenance",
        "unpriced_calls",
        "unpriced_tokens",
        "prices",
    ):
        assert a[name] == b[name], (name, a, b)
    assert sorted(a["unpriced_models"]) == sorted(b["unpriced_models"])
    for name in ("cost_usd", "reported_usd", "computed_usd"):
        assert (a[name] is None) == (b[name] is None), (name, a, b)
        if a[name] is not None:
            assert a[name] == pytest.approx(b[name], rel=1e-9, abs=1e-12)


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    ingest_paths([SAMPLE_RUNS], Store(engine))
    return engine


@pytest.mark.parametrize("by", costs.GROUPINGS)
def test_every_grouping_equals_core_costs(loaded: Engine, by: str) -> None:
    book = load_price_book(loaded)
    done = rollup.refresh(loaded, book)
    assert done.recomputed > 0
    expected = [s.to_dict() for s in costs.costs_by(loaded, by, book)]
    got = [s.to_dict() for s in rollup.costs_by(loaded, by)]
    assert len(got) == len(expected) > 0
    assert {str(s["key"]) for s in got} == {str(s["key"]) for s in expected}
    by_key = {str(s["key"]): s for s in expected}
    for summary in got:
        _same(summary, by_key[str(summary["key"])])
    assert [s["cost_usd"] or 0 for s in got] == sorted((s["cost_usd"] or 0 for s in got), reverse=True)


def test_failures_equal_core_failures_and_a_second_refresh_does_nothing(loaded: Engine) -> None:
    book = load_price_book(loaded)
    rollup.refresh(loaded, book)
    infos = failed_runs(loaded)
    classes: dict[str, int] = {}
    for info in infos:
        classes[info.failure_class] = classes.get(info.failure_class, 0) + 1
    assert rollup.failure_classes(loaded) == dict(sorted(classes.items(), key=lambda kv: (-kv[1], kv[0])))
    groups = rollup.failure_groups(loaded)
    assert sum(g["count"] for g in groups) == len(infos) == rollup.failure_count(loaded)
    listed = {f["run_id"] for g in groups for f in g["runs"]}
    assert listed == {i.run_id for i in infos}
    for group in groups:
        assert group["example_reason"] is None or any(
            i.reason == group["example_reason"] and i.normalized_reason == group["normalized_reason"]
            for i in infos
        )
    assert rollup.refresh(loaded, book).recomputed == 0


def _acf(task: int, checkpoint: int, status: str) -> str:
    return json.dumps(
        {
            "ac_version": "0.1.0",
            "checkpoint_id": f"6f1c2b9e-3f4d-4a5b-8c6d-{checkpoint:012d}",
            "task_id": f"1a2b3c4d-5e6f-4a7b-8c9d-{task:012d}",
            "agent_id": "agent",
            "emitted_at": "2026-01-01T00:00:00+00:00",
            "status": status,
            "task_summary": f"task {task}",
            "failure_reason": "TimeoutError: the tool took too long" if status == "failed" else None,
            "completed_steps": [],
            "remaining_steps": ["next"],
        }
    )


def _partial_runs(engine: Engine, tmp_path: Path, runs: int) -> tuple[Path, Store, PriceBook]:
    """A folder of ``runs`` one-checkpoint ACF runs, ingested: (folder, store, price book)."""
    folder = tmp_path / "runs"
    folder.mkdir()
    for n in range(runs):
        (folder / f"run{n}.json").write_text(_acf(n, n, "partial"))
    store = Store(engine)
    ingest_paths([folder], store)
    return folder, store, load_price_book(engine)


def test_a_changed_file_recomputes_only_its_run_and_a_removed_run_goes(
    engine: Engine, tmp_path: Path
) -> None:
    folder, store, book = _partial_runs(engine, tmp_path, 3)
    assert rollup.refresh(engine, book).recomputed == 3
    assert rollup.failure_count(engine) == 0
    (folder / "run0.json").write_text(_acf(0, 10, "failed"))  # run 0 fails
    (folder / "run1.json").write_text(_acf(7, 11, "partial"))  # run 1 is gone, run 7 is new
    ingest_paths([folder], store)
    again = rollup.refresh(engine, book)
    with engine.connect() as connection:
        runs = set(connection.execute(text("SELECT id FROM run")).scalars())
        rows = set(connection.execute(select(RunRollup.run_id)).scalars())
    assert rows == runs and len(runs) == 3
    assert (again.recomputed, again.removed) == (2, 1)
    groups = rollup.failure_groups(engine)
    assert [(g["count"], g["example_reason"]) for g in groups] == [
        (1, "TimeoutError: the tool took too long")
    ]
    assert rollup.refresh(engine, book).recomputed == 0


def test_an_edited_prices_file_reprices_every_run(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths([SAMPLE_RUNS], Store(engine))
    prices = tmp_path / "prices.toml"
    monkeypatch.setenv("BATON_PRICES", str(prices))
    prices.write_text("")
    book = load_price_book(engine)
    rollup.refresh(engine, book)
    unpriced = rollup.cost_totals(engine).unpriced_models
    model = next(m for m in unpriced if m != "(no model)")
    prices.write_text(f'[models."{model}"]\ninput = 1.0\noutput = 2.0\n')
    book = load_price_book(engine)
    assert rollup.refresh(engine, book).recomputed > 0
    assert model not in rollup.cost_totals(engine).unpriced_models
    expected = {str(s.key): s.to_dict() for s in costs.costs_by(engine, "model", book)}
    for summary in rollup.costs_by(engine, "model"):
        _same(summary.to_dict(), expected[str(summary.key)])


def _database_before(url: str, migration_name: str, undo: list[str]) -> Engine:
    """A database migrated up to (not including) ``migration_name``; ``undo`` removes what
    the first migration's create_all already made of the later schema."""
    version = [m.__name__ for m in MIGRATIONS].index(migration_name)
    engine = make_engine(url, migrate=False)
    with engine.begin() as connection:
        for number, migration in enumerate(MIGRATIONS[:version], start=1):
            migration(connection)
            if number == 1:
                for statement in undo:
                    connection.execute(text(statement))
                connection.execute(
                    text(
                        "CREATE TABLE IF NOT EXISTS baton_schema (version INTEGER PRIMARY KEY, applied_at TEXT)"
                    )
                )
            connection.execute(text("INSERT INTO baton_schema (version) VALUES (:v)"), {"v": number})
    return engine


def test_the_migration_adds_the_rollup_tables_to_an_older_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = _database_before(
        url, "_add_run_rollups", ["DROP TABLE IF EXISTS run_rollup", "DROP TABLE IF EXISTS run_cost_part"]
    )
    assert not inspect(engine).has_table("run_rollup")
    engine.dispose()
    engine = make_engine(url)
    assert inspect(engine).has_table("run_rollup") and inspect(engine).has_table("run_cost_part")
    (tmp_path / "one").mkdir()
    doc = json.loads((next((SAMPLE_RUNS / "acf").rglob("*.json"))).read_text())
    (tmp_path / "one" / "cp.json").write_text(json.dumps(doc))
    ingest_paths([tmp_path / "one"], Store(engine))
    assert rollup.refresh(engine, load_price_book(engine)).recomputed >= 1
    engine.dispose()


def test_a_change_stamped_before_the_watermark_is_found_by_the_next_margin_sweep(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that stamped before taking the write lock (versions before commit stamps) can
    commit a stamp older than the last refresh's watermark: the margin sweep, at most once a
    SWEEP_EVERY, still finds it; a change stamped after the watermark is found at once."""
    folder, store, book = _partial_runs(engine, tmp_path, 2)
    monkeypatch.setattr(rollup, "_swept", {})
    assert rollup.refresh(engine, book).recomputed == 2  # the first refresh of a process sweeps
    with engine.begin() as connection:
        watermark = connection.execute(select(RollupState.watermark)).scalar_one()
        run_id = connection.execute(text("SELECT id FROM run ORDER BY id LIMIT 1")).scalar_one()
    with engine.begin() as connection:  # the late commit of an old writer: failed, stamped earlier
        connection.execute(
            RunTable.__table__.update()
            .where(RunTable.id == run_id)
            .values(
                status="failed",
                failure_reason="TimeoutError: the tool took too long",
                updated_at=watermark - timedelta(seconds=30),
            )
        )
    assert rollup.refresh(engine, book).recomputed == 0  # not a sweep yet
    assert rollup.failure_count(engine) == 0
    monkeypatch.setattr(rollup, "_swept", {})  # SWEEP_EVERY has passed
    assert rollup.refresh(engine, book).recomputed == 1
    assert rollup.failure_count(engine) == 1
    (folder / "run1.json").write_text(_acf(1, 5, "failed"))  # a current writer: found at once
    ingest_paths([folder], store)
    assert rollup.refresh(engine, book).recomputed == 1
    assert rollup.failure_count(engine) == 2


def test_latest_failed_lists_the_last_failures_newest_first(loaded: Engine) -> None:
    rollup.refresh(loaded, load_price_book(loaded))
    infos = sorted(failed_runs(loaded), key=lambda i: (i.failed_at is not None, i.failed_at), reverse=True)
    got = run_search.latest_failed(loaded, 5)
    assert len(got) == min(5, len(infos)) > 0
    assert all(row["status"] == "failed" and row["failure_class"] for row in got)
    times = [info.failed_at for info in infos]
    by_id = {info.run_id: info.failed_at for info in infos}
    assert [by_id[row["id"]] for row in got] == times[: len(got)]


def test_the_migration_indexes_run_changes_and_failure_times(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = _database_before(
        url,
        "_add_change_and_failure_indexes",
        ["DROP INDEX IF EXISTS ix_run_updated_at", "DROP INDEX IF EXISTS ix_run_rollup_failed_at"],
    )
    names = {i["name"] for t in ("run", "run_rollup") for i in inspect(engine).get_indexes(t)}
    assert not names & {"ix_run_updated_at", "ix_run_rollup_failed_at"}
    engine.dispose()
    engine = make_engine(url)
    names = {i["name"] for t in ("run", "run_rollup") for i in inspect(engine).get_indexes(t)}
    assert {"ix_run_updated_at", "ix_run_rollup_failed_at"} <= names
    with engine.connect() as connection:
        plan = " ".join(
            str(row)
            for row in connection.execute(
                text("EXPLAIN QUERY PLAN SELECT id FROM run WHERE updated_at > '2026-01-01'")
            )
        )
    assert "ix_run_updated_at" in plan

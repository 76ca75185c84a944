"""Runs first seen in a write batch are computed from the batch's rows, without reading
them back; runs that existed are recomputed from the database. Both ways must give the
same run, whatever the batching: one batch of every sample file versus one file at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import make_engine
from core.store import Store
from core.tables import Checkpoint, Run
from ingest.discover import walk_names
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS


def _snapshot(url: str) -> tuple[dict[str, dict], dict[str, str | None]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        runs = {row.id: dict(row._mapping) for row in connection.execute(select(Run))}
        parents = dict(connection.execute(select(Checkpoint.id, Checkpoint.parent_id)).all())
    engine.dispose()
    for run in runs.values():
        run.pop("updated_at")
    return runs, parents


def test_one_batch_and_file_by_file_give_identical_runs_and_chains(tmp_path: Path) -> None:
    names = list(walk_names([SAMPLE_RUNS]))
    assert len(names) > 100

    at_once = f"sqlite:///{tmp_path / 'at_once.db'}"
    summary = ingest_paths([SAMPLE_RUNS], Store(make_engine(at_once)))
    assert summary.files_loaded > 100

    one_by_one = f"sqlite:///{tmp_path / 'one_by_one.db'}"
    store = Store(make_engine(one_by_one))
    for name in names:
        ingest_paths([Path(name)], store)

    runs_at_once, parents_at_once = _snapshot(at_once)
    runs_one_by_one, parents_one_by_one = _snapshot(one_by_one)
    assert runs_at_once.keys() == runs_one_by_one.keys()
    for run_id, run in runs_at_once.items():
        other = runs_one_by_one[run_id]
        cost, other_cost = run.pop("reported_cost_usd"), other.pop("reported_cost_usd")
        assert run == other, run_id
        assert cost == pytest.approx(other_cost), run_id
    assert parents_at_once == parents_one_by_one
    # The chains are really there: loopengt and harness checkpoints name no parent themselves,
    # so the store's chaining is what links them (the other frameworks' runs, often of one
    # checkpoint each, are left out of this count).
    engine = make_engine(at_once)
    with engine.connect() as connection:
        chained_by_store = set(
            connection.execute(
                select(Checkpoint.id)
                .join(Run, Run.id == Checkpoint.run_id)
                .where(Run.framework.in_(("loopengt", "harness")))
            ).scalars()
        )
    engine.dispose()
    chained = {cp: parent for cp, parent in parents_at_once.items() if cp in chained_by_store}
    assert sum(parent is not None for parent in chained.values()) >= 20  # 21 in sample_runs

"""A team's machines do not share one clock. Every commit must still move the dashboard's
data version (``max(seen_at)``) and be found by the rollup (runs by ``updated_at``), even
when the commit before it came from a machine whose clock runs an hour ahead.

The machine ahead is played by moving the stored stamps an hour forward in SQL: exactly the
rows such a machine leaves (its files, its runs, and a dashboard on it that refreshed the
rollup)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from core import queries, rollup
from core.prices import load_price_book
from core.store import Store
from core.tables import RollupState, Run, RunRollup, SourceFile
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

AHEAD = timedelta(hours=1)
TRACE = (
    SAMPLE_RUNS
    / "harness"
    / "v0.14.0"
    / "traces"
    / "routed_complete--1192e3b7-0764-4444-a8ca-84bd49866e2a.jsonl"
)


def _as_if_written_an_hour_ahead(engine: Engine) -> None:
    """Every stamp an hour later (in Python: SQLite keeps times as text)."""
    shifted = (
        (SourceFile, SourceFile.id, ("seen_at",)),
        (Run, Run.id, ("updated_at",)),
        (RunRollup, RunRollup.run_id, ("as_of",)),
        (RollupState, RollupState.name, ("watermark", "checked_at")),
    )
    with engine.begin() as connection:
        for table, key, names in shifted:
            columns = [getattr(table, name) for name in names]
            for row in connection.execute(select(key, *columns)).all():
                values = {
                    name: value + AHEAD
                    for name, value in zip(names, row[1:], strict=True)
                    if value is not None
                }
                if values:
                    connection.execute(update(table).where(key == row[0]).values(**values))


def _one_more_context_report(trace: Path) -> None:
    """The trace rewritten with one more line before its last (the file changes, the number
    of files does not)."""
    lines = trace.read_bytes().splitlines()
    report = json.loads(lines[-4])
    assert report["type"] == "context"
    lines.insert(len(lines) - 1, json.dumps(report | {"timestamp": report["timestamp"] + 0.001}).encode())
    trace.write_bytes(b"\n".join(lines) + b"\n")


def test_a_commit_after_a_machine_ahead_moves_the_data_version_and_the_rollup(
    engine: Engine, tmp_path: Path
) -> None:
    assert TRACE.is_file()
    folder = tmp_path / "agents"
    folder.mkdir()
    shutil.copy(TRACE, folder / TRACE.name)
    shutil.copytree(SAMPLE_RUNS / "acf" / "v0.3.0", folder / "acf")
    store = Store(engine)
    assert ingest_paths([folder], store).files_failed == 0
    book = load_price_book(engine)
    rollup.refresh(engine, book)
    _as_if_written_an_hour_ahead(engine)
    before = queries.data_version(engine)
    with engine.connect() as connection:
        newest = connection.execute(select(func.max(Run.updated_at))).scalar_one()

    _one_more_context_report(folder / TRACE.name)
    summary = ingest_paths([folder], store)
    assert summary.files_loaded == 1 and summary.files_unchanged > 0

    after = queries.data_version(engine)
    assert after[0] == before[0]  # the same files
    assert after != before, "the dashboard would keep showing the data from before this commit"
    (touched,) = summary.touched_runs
    with engine.connect() as connection:
        stamped = connection.execute(select(Run.updated_at).where(Run.id == touched)).scalar_one()
    assert stamped > newest
    done = rollup.refresh(engine, book)
    assert done.recomputed == 1, "the rollup missed the run this commit changed"
    with engine.connect() as connection:
        as_of = connection.execute(select(RunRollup.as_of).where(RunRollup.run_id == touched)).scalar_one()
    assert as_of == stamped


def test_stamps_grow_with_every_commit(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    store = Store(engine)
    versions = []
    for n, source in enumerate(sorted((SAMPLE_RUNS / "acf" / "v0.3.0").rglob("*.json"))[:5]):
        shutil.copy(source, folder / f"{n}-{source.name}")
        ingest_paths([folder], store)
        versions.append(queries.data_version(engine)[1])
        if n == 0:
            _as_if_written_an_hour_ahead(engine)
            versions[0] = queries.data_version(engine)[1]
    assert sorted(versions) == versions and len(set(versions)) == 5

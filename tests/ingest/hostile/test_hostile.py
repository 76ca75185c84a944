"""Hostile input, all at once: every file of the generator beside good agent files, through the
real ingester, the real store (SQLite and PostgreSQL) and the real command line. Each file gets
the outcome a user must see, the good files beside them all load, nothing hangs or crashes, and
a second pass changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core import queries
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS
from tests.helpers import copy_tree, row_counts
from tests.ingest.hostile.cases import Case, make_cases

GOOD = SAMPLE_RUNS / "acf"


@pytest.fixture
def hostile_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Case]]:
    monkeypatch.setenv("BATON_MAX_FILE_MB", "1")  # the "too large" case; the others are smaller
    tree = tmp_path / "agents"
    cases = make_cases(tree / "hostile")
    copy_tree(GOOD, tree / "good")
    return tree, cases


def test_the_generator_covers_enough_ground(tmp_path: Path) -> None:
    cases = make_cases(tmp_path)
    assert len(cases) >= 100, len(cases)
    assert len({case.category for case in cases}) >= 20, sorted({case.category for case in cases})
    assert len({case.path for case in cases}) == len(cases), "two cases share a file"


def test_every_hostile_file_has_its_outcome_and_the_good_ones_load(
    hostile_tree: tuple[Path, list[Case]], store: Store, tmp_path: Path
) -> None:
    tree, cases = hostile_tree
    ingest_paths([tree], store)
    files = {f["path"]: f for f in queries.source_files(store.engine)}
    wrong = []
    for case in cases:
        stored = files.get(str(tree / "hostile" / case.path))
        if case.outcome == "skipped":  # never read, never recorded
            if stored is not None:
                wrong.append(f"{case.category}: {case.path!r} should be skipped, is {stored['outcome']}")
            continue
        if stored is None:
            wrong.append(f"{case.category}: {case.path!r} has no recorded outcome")
            continue
        text = " ".join(filter(None, [stored.get("error"), *(stored.get("warnings") or [])]))
        if stored["outcome"] != case.outcome or case.says not in text:
            wrong.append(
                f"{case.category}: {case.path!r} is {stored['outcome']} ({text[:120]!r}), "
                f"expected {case.outcome} ({case.says!r})"
            )
    assert not wrong, "\n".join(wrong)
    # The good files beside the hostile ones: every run, checkpoint and event of them is there.
    alone = _fresh_store(tmp_path)
    ingest_paths([GOOD], alone)
    good_runs = {r["id"]: r for r in queries.list_runs(alone.engine)}
    runs = {r["id"]: r for r in queries.list_runs(store.engine)}
    for run_id, run in good_runs.items():
        assert run_id in runs, f"good run {run_id} is missing"
        assert runs[run_id]["checkpoints"] == run["checkpoints"], run_id
    alone.engine.dispose()


def test_a_second_pass_changes_nothing(hostile_tree: tuple[Path, list[Case]], store: Store) -> None:
    tree, _ = hostile_tree
    ingest_paths([tree], store)
    before = row_counts(store.engine)
    outcomes = {f["path"]: f["outcome"] for f in queries.source_files(store.engine)}
    again = ingest_paths([tree], store)
    assert again.files_loaded == 0
    assert row_counts(store.engine) == before
    assert {f["path"]: f["outcome"] for f in queries.source_files(store.engine)} == outcomes


def test_the_command_line_reports_without_a_traceback(
    hostile_tree: tuple[Path, list[Case]], tmp_path: Path
) -> None:
    tree, cases = hostile_tree
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"BATON_MAX_FILE_MB": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    ingest = subprocess.run(
        [sys.executable, "-m", "baton", "ingest", str(tree), "--db", db],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert ingest.returncode == 1, ingest.stderr  # some files failed
    assert "Traceback" not in ingest.stderr + ingest.stdout
    errors = subprocess.run(
        [sys.executable, "-m", "baton", "errors", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert errors.returncode == 0 and "Traceback" not in errors.stderr
    printed = errors.stdout
    for case in cases:
        if case.outcome == "failed" and "\n" not in case.path and "\u202e" not in case.path:
            assert Path(case.path).name in printed, case.path


def _fresh_store(tmp_path: Path) -> Store:
    from core.db import make_engine

    return Store(make_engine(f"sqlite:///{tmp_path / 'good-alone.db'}"))

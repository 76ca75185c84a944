"""One techrevati session recorded by four sources at once (a JSONL sink, an SQLite store with
a checkpoint thread, an audit-log export, its session summary) is one run: counted once, its
cost and tokens summed once, its sources listed. Files made by the real package (the
committed sample, and a fresh one from the generator in the package's own venv)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baton.cli import main
from core import queries
from core.costs import costs_by
from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS
from tests.framework_envs import framework_python
from tests.helpers import row_counts

SAMPLE = SAMPLE_RUNS / "techrevati" / "v0.4.0"
SOURCES = ("duplicates.jsonl", "duplicates.sqlite", "duplicates.audit.jsonl", "duplicates.summary.json")
GENERATOR = REPO / "sample_runs" / "generators" / "make_techrevati.py"


def _copy(folder: Path, target: Path) -> Path:
    target.mkdir()
    for name in (*SOURCES, "pricing.json"):
        shutil.copy2(folder / name, target / name)
    return target


def _seen(engine: Any) -> dict[str, Any]:
    """What a user sees: the runs, Overview's counts and costs, the stored records."""
    runs = queries.list_runs(engine, framework="techrevati")
    by_run = costs_by(engine, "run")
    return {
        "runs": [
            {key: run[key] for key in ("id", "native_id", "status", "events", "checkpoints")}
            | {key: run[key] for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cost_usd")}
            for run in runs
        ],
        "status_counts": queries.run_status_counts(engine),
        "cost_by_run": [(c.key, round(c.cost_usd or 0, 9), c.input_tokens) for c in by_run],
        "cost_total": round(sum(c.cost_usd or 0 for c in costs_by(engine, "framework")), 9),
        "events": row_counts(engine)["event"],
    }


def _alone(folder: Path, name: str, tmp_path: Path) -> dict[str, Any]:
    store = Store(make_engine(f"sqlite:///{tmp_path / (name + '.db')}"))
    assert ingest_paths([folder / name], store).files_loaded == 1
    return _seen(store.engine)


def _assert_one_run(folder: Path, store: Store, tmp_path: Path) -> None:
    jsonl = _alone(folder, "duplicates.jsonl", tmp_path)
    for name in ("duplicates.sqlite", "duplicates.audit.jsonl"):  # the same stream, alone
        alone = _alone(folder, name, tmp_path)
        assert alone["runs"][0] | {"checkpoints": 0} == jsonl["runs"][0]
        assert alone["cost_total"] == jsonl["cost_total"] and alone["events"] == jsonl["events"]
    summary = _alone(folder, "duplicates.summary.json", tmp_path)
    assert summary["runs"][0]["id"] == jsonl["runs"][0]["id"]
    assert summary["cost_total"] == jsonl["cost_total"] == pytest.approx(0.00748)

    result = ingest_paths([folder / name for name in SOURCES], store)
    assert result.files_loaded == 4 and result.files_failed == 0
    together = _seen(store.engine)
    (run,) = together["runs"]
    assert run == jsonl["runs"][0] | {"checkpoints": 3}  # the store's thread joins the session's run
    assert (run["status"], run["events"], run["input_tokens"], run["output_tokens"]) == (
        "failed",
        9,
        1500,
        250,
    )
    assert together["status_counts"] == {"failed": 1}  # Overview's "Failed runs"
    assert together["cost_by_run"] == jsonl["cost_by_run"]
    assert together["cost_total"] == jsonl["cost_total"]  # Overview's "Cost to date"
    assert together["events"] == jsonl["events"] == 9  # each event stored once
    attributes = queries.get_run(store.engine, run["id"])["attributes"]
    assert sorted(Path(p).name for p in attributes["sources"]) == sorted(SOURCES)
    assert attributes["thread_id"] == "duplicates-demo" and attributes["worker_id"].startswith(
        "reviewer-check-"
    )


def test_one_session_in_four_sources_is_one_run(
    db_url: str, tmp_path: Path, new_store: Callable[[str], Store]
) -> None:
    store = new_store(db_url)
    _assert_one_run(_copy(SAMPLE, tmp_path / "run"), store, tmp_path)


def test_the_same_files_read_again_or_alone_change_nothing(store: Store, tmp_path: Path) -> None:
    folder = _copy(SAMPLE, tmp_path / "run")
    ingest_paths([folder], store)
    seen = _seen(store.engine)
    (folder / "duplicates.jsonl").write_bytes((folder / "duplicates.jsonl").read_bytes())  # touched
    ingest_paths([folder], store)
    assert _seen(store.engine) == seen
    (folder / "duplicates.jsonl").unlink()  # one source gone: the others still hold everything
    ingest_paths([folder], store)
    after = _seen(store.engine)
    assert after["runs"] == seen["runs"] and after["cost_total"] == seen["cost_total"]


def test_show_lists_the_runs_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(SAMPLE, tmp_path / "run")
    db = f"sqlite:///{tmp_path / 'baton.db'}"
    assert main(["ingest", str(folder), "--db", db]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db, "--framework", "techrevati", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert main(["show", run["id"], "--db", db]) == 0
    shown = capsys.readouterr().out
    listed = [line.split()[-1] for line in shown.splitlines() if line.strip().endswith(SOURCES)]
    assert sorted(Path(p).name for p in listed) == sorted(SOURCES)
    assert "  sources  " in shown


def test_fresh_files_from_the_real_package_are_one_run(store: Store, tmp_path: Path) -> None:
    python = framework_python("techrevati-runtime", "0.4.0")
    subprocess.run(
        [str(python), str(GENERATOR), "--scenario", "duplicates", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    _assert_one_run(tmp_path / "v0.4.0", store, tmp_path)


def test_a_sink_read_line_by_line_still_joins_the_other_sources(store: Store, tmp_path: Path) -> None:
    """A watcher reads the JSONL sink one appended line at a time (tails: usage records after
    usage records, ids from the lines before), then the other three sources arrive: one run."""
    folder = _copy(SAMPLE, tmp_path / "run")
    lines = (folder / "duplicates.jsonl").read_bytes().splitlines(keepends=True)
    live = folder / "duplicates.jsonl"
    live.write_bytes(b"")
    for line in lines:
        with live.open("ab") as handle:
            handle.write(line)
        assert ingest_paths([live], store).files_failed == 0
    ingest_paths([folder / name for name in SOURCES], store)
    expected = _alone(folder, "duplicates.sqlite", tmp_path)
    together = _seen(store.engine)
    assert together["runs"] == expected["runs"] and together["events"] == 9
    assert together["cost_total"] == expected["cost_total"]

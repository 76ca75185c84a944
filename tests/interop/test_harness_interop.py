"""Drive the real react-agent-harness (0.0.2 and 0.14.0, stub LLM, real process kills) through
the sample generator into a temp dir, then ingest what it wrote and check what a user sees."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core import queries
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO
from tests.framework_envs import framework_python
from tests.ingest.test_harness_parsers import assert_harness_scenarios, scenario_runs

VERSIONS = ["0.0.2", "0.14.0"]


@pytest.fixture(scope="module", params=VERSIONS)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(v<version> output folder, snapshot folder with every write of every key)."""
    out = tmp_path_factory.mktemp(f"harness-{request.param}")
    python = framework_python("react-agent-harness", request.param)
    subprocess.run(
        [
            str(python),
            str(REPO / "sample_runs/generators/make_harness.py"),
            "--out",
            str(out / "files"),
            "--snapshot-writes",
            str(out / "writes"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / "files" / f"v{request.param}", out / "writes"


def test_fresh_files_from_the_real_package_load_as_documented(
    generated: tuple[Path, Path], store: Store
) -> None:
    folder, _ = generated
    summary = ingest_paths([folder], store)
    assert summary.files_failed == 0 and summary.files_ignored == 0, summary.failures
    assert_harness_scenarios(store.engine, folder)


def test_overwrite_in_place_sequence_of_one_key_becomes_a_chain(
    generated: tuple[Path, Path], tmp_path: Path, store: Store
) -> None:
    """Replay every write of the replanned orchestration's checkpoint to one file, ingesting after
    each as the watcher would; then delete it as the harness does after ``done``."""
    folder, writes = generated
    key = scenario_runs(folder)["orchestrated_replan"]
    snapshots = sorted((writes / key).glob("*.json"), key=lambda p: int(p.stem))
    assert len(snapshots) >= 4  # plan, batches, the failed task, the replan
    target = tmp_path / "checkpoints" / f"{key}.json"
    target.parent.mkdir()
    for number, snapshot in enumerate(snapshots, start=1):
        target.write_bytes(snapshot.read_bytes())
        os.utime(target, ns=(number * 10**9, number * 10**9))
        ingest_paths([target.parent], store)
    target.unlink()
    ingest_paths([target.parent], store)
    run = queries.get_run(store.engine, queries.resolve_run_id(store.engine, key))
    chain = queries.run_checkpoints(store.engine, run["id"], with_documents=True)
    assert [cp["document"] for cp in chain] == [json.loads(s.read_bytes()) for s in snapshots]
    assert [cp["parent_id"] for cp in chain] == [None] + [cp["id"] for cp in chain[:-1]]
    assert chain[-1]["attributes"]["replan_count"] == 1 and chain[0]["attributes"]["replan_count"] == 0
    assert run["checkpoints"] == len(snapshots) and run["task"] == "Fix the worker-07 memory leak"

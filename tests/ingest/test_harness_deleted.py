"""react-agent-harness deletes a checkpoint file on success and leaves it on a crash: a status
inferred from the file being on disk must not outlive the file."""

from __future__ import annotations

import shutil
from pathlib import Path

from core import queries
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

CHECKPOINT = SAMPLE_RUNS / "harness/v0.14.0/checkpoints/ab3a2bfc-06b6-43e9-8a61-33395e261a47:researcher.json"


def test_deleting_a_left_behind_checkpoint_withdraws_the_inferred_failure(
    tmp_path: Path, store: Store
) -> None:
    copy = Path(shutil.copy(CHECKPOINT, tmp_path / CHECKPOINT.name))
    ingest_paths([tmp_path], store)
    (run,) = queries.list_runs(store.engine)
    assert run["status"] == "failed" and "status" in run["inferred"]
    checkpoints = queries.run_checkpoints(store.engine, run["id"])

    copy.unlink()
    summary = ingest_paths([tmp_path], store)

    (after,) = queries.list_runs(store.engine)
    assert after["status"] != "failed"
    assert after["failure_reason"] is None
    assert queries.run_checkpoints(store.engine, run["id"]) == checkpoints  # history is kept
    assert [f["outcome"] for f in queries.source_files(store.engine)] == ["deleted"]
    assert summary.runs == 1


def test_a_file_still_on_disk_keeps_its_inferred_failure(tmp_path: Path, store: Store) -> None:
    shutil.copy(CHECKPOINT, tmp_path / CHECKPOINT.name)
    ingest_paths([tmp_path], store)
    ingest_paths([tmp_path], store)
    (run,) = queries.list_runs(store.engine)
    assert run["status"] == "failed"

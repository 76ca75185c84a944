"""Drive the real loopengt 0.1.0 (in its own venv) to write fresh files, then ingest them.

The sample generator is the driver: it runs the real executor, CheckpointManager, both
trace stores and the real ``loopengt run`` CLI, and prints the run ids it made.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from core import queries
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO
from tests.framework_envs import framework_python


def _generate(out: Path) -> dict:
    python = framework_python("loopengt", "0.1.0")
    proc = subprocess.run(
        [str(python), str(REPO / "sample_runs/generators/make_loopengt.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(proc.stdout)


def test_fresh_files_from_the_real_package_load_with_their_statuses(tmp_path: Path, store: Store) -> None:
    made = _generate(tmp_path)
    summary = ingest_paths([tmp_path / "v0.1.0"], store)
    assert (summary.files_failed, summary.files_ignored) == (0, 0)
    assert (summary.runs, summary.checkpoints, summary.events) == (11, 26, 191)

    runs = queries.list_runs(store.engine, framework="loopengt")
    by_id = {run["native_id"]: run for run in runs}
    # The generator reports "<run_id>:<status>" for every run state it saved (a run resumed
    # under the same id is saved twice: the database shows its final state).
    for loop_name, saved in made["runs"].items():
        if saved == ["cli"]:
            continue
        run_id, status = saved[-1].split(":")
        assert by_id[run_id]["task"] == loop_name
        assert by_id[run_id]["status"] == status
    cli = {run["task"]: run for run in runs if run["task"].startswith("cli-")}
    assert cli["cli-quickstart"]["status"] == "completed"
    assert cli["cli-missing-agent"]["status"] == "failed"
    assert cli["cli-missing-agent"]["failure_reason"] == "Agent not found: ghost"
    assert Counter(run["status"] for run in runs) == {"completed": 6, "failed": 3, "paused": 2}

    flaky_id = made["runs"]["flaky-etl"][0].split(":")[0]
    flaky = by_id[flaky_id]
    assert [a["outcome"] for a in flaky["attributes"]["attempts"]] == ["failed", "completed"]
    assert flaky["checkpoints"] == 4 and flaky["events"] == 30
    assert (flaky["input_tokens"], flaky["output_tokens"]) == (490, 156)

    again = ingest_paths([tmp_path / "v0.1.0"], store)
    assert again.files_unchanged == again.files_seen == summary.files_seen

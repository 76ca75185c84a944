"""Drive the real agent-checkpoint-framework (both versions) to write fresh files, then ingest."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO
from tests.framework_envs import framework_python
from tests.ingest.acf_scenarios import assert_acf_scenarios


@pytest.mark.parametrize("version", ["0.1.0", "0.3.0"])
def test_fresh_files_from_the_real_package_load_as_documented(
    version: str, tmp_path: Path, store: Store
) -> None:
    python = framework_python("agent-checkpoint-framework", version)
    subprocess.run(
        [str(python), str(REPO / "sample_runs/generators/make_acf.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    summary = ingest_paths([tmp_path / f"v{version}"], store)
    assert summary.files_failed == 0 and summary.files_loaded > 0
    assert_acf_scenarios(store.engine)

"""Drive the real techrevati-runtime (both versions, stub LLMs) to write fresh files, then ingest them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core import queries
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO
from tests.framework_envs import framework_python
from tests.ingest.test_techrevati_parsers import assert_techrevati_scenarios

GENERATOR = REPO / "sample_runs" / "generators" / "make_techrevati.py"


@pytest.mark.parametrize("version", ["0.1.0", "0.4.0"])
def test_fresh_files_from_the_real_package_load_as_documented(
    version: str, tmp_path: Path, store: Store
) -> None:
    python = framework_python("techrevati-runtime", version)
    subprocess.run(
        [str(python), str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True, timeout=300
    )
    summary = ingest_paths([tmp_path / f"v{version}"], store)
    assert summary.files_failed == 0 and summary.files_ignored == 0 and summary.files_loaded > 0
    assert_techrevati_scenarios(store.engine, f"v{version}")


@pytest.mark.parametrize("version", ["0.1.0", "0.4.0"])
def test_the_packages_own_empty_pricing_file_loads_without_prices(version: str, store: Store) -> None:
    python = framework_python("techrevati-runtime", version)
    bundled = subprocess.run(
        [
            str(python),
            "-c",
            "import pathlib, techrevati.runtime as r; "
            "print(pathlib.Path(r.__file__).parent / 'data' / 'pricing.json')",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    summary = ingest_paths([Path(bundled)], store)
    (outcome,) = queries.source_files(store.engine)
    assert summary.files_loaded == 1 and outcome["format"] == "techrevati.pricing"
    assert not queries.list_runs(store.engine)

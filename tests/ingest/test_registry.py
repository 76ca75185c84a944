"""The registry is the one list of formats: each one has real sample files, detects them, and
is documented in the README. No sample file outside sample_runs/broken fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.discover import walk
from ingest.loader import read_file
from ingest.registry import all_formats
from tests.conftest import REPO, SAMPLE_RUNS

FORMATS = all_formats()


@pytest.fixture(scope="module")
def outcomes() -> dict[Path, object]:
    """Every sample file read once per module (not at collection time)."""
    return {path: read_file(path, None) for path in walk([SAMPLE_RUNS])}


@pytest.mark.parametrize("spec", FORMATS, ids=[spec.name for spec in FORMATS])
def test_every_format_has_a_sample_that_loads_as_it(spec, outcomes: dict) -> None:
    loaded = [p for p, o in outcomes.items() if o.outcome == "loaded" and o.format == spec.name]
    assert loaded, f"no file in sample_runs/ loads as {spec.name}"
    assert all(p.is_relative_to(SAMPLE_RUNS / spec.framework) for p in loaded), loaded


@pytest.mark.parametrize("spec", FORMATS, ids=[spec.name for spec in FORMATS])
def test_every_format_is_documented(spec) -> None:
    readme = (REPO / "README.md").read_text()
    assert f"`{spec.name}`" in readme, f"README.md does not name the format {spec.name}"
    assert (SAMPLE_RUNS / spec.framework / "README.md").is_file()


def test_format_names_are_unique_and_frameworks_known() -> None:
    names = [spec.name for spec in FORMATS]
    assert len(names) == len(set(names))
    assert {spec.framework for spec in FORMATS} <= {"acf", "loopengt", "harness", "techrevati"}


def test_no_sample_outside_broken_fails(outcomes: dict) -> None:
    failed = {str(p): o.error for p, o in outcomes.items() if o.outcome == "failed"}
    assert failed and all("/broken/" in path for path in failed), failed

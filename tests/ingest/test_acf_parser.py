"""The ACF parser over the committed samples of both versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import queries
from core.store import Store
from ingest.content import decode
from ingest.loader import ingest_paths
from ingest.parsers.acf import checkpoint as acf
from tests.conftest import SAMPLE_RUNS
from tests.ingest.acf_scenarios import assert_acf_scenarios

VERSIONS = sorted(p.name for p in (SAMPLE_RUNS / "acf").glob("v*"))
DOCUMENTS = sorted(p for p in (SAMPLE_RUNS / "acf").rglob("*.json") if "manifests" not in p.parts)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_shows_every_scenario(version: str, store: Store) -> None:
    summary = ingest_paths([SAMPLE_RUNS / "acf" / version], store)
    assert summary.files_failed == 0
    assert_acf_scenarios(store.engine)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(SAMPLE_RUNS)))
def test_every_document_keeps_its_original_beside_the_normalized_fields(path: Path) -> None:
    content = decode(path, path.read_bytes())
    assert acf.detect(content)
    parsed = acf.parse(content)
    (checkpoint,) = parsed.checkpoints
    assert checkpoint.document == content.json
    assert checkpoint.native_id == content.json["checkpoint_id"]
    assert checkpoint.created_at is not None and checkpoint.created_at.tzinfo is not None


def test_non_uuid_task_id_loads_with_a_warning(store: Store) -> None:
    path = SAMPLE_RUNS / "acf" / "v0.1.0" / "edge_cases" / "non_uuid_task_id.json"
    ingest_paths([path], store)
    (record,) = queries.source_files(store.engine)
    assert record["outcome"] == "loaded"
    assert any("not a UUIDv4" in warning for warning in record["warnings"])


def test_manifests_of_030_are_loaded_as_agents(store: Store) -> None:
    summary = ingest_paths([SAMPLE_RUNS / "acf" / "v0.3.0" / "manifests"], store)
    assert summary.files_loaded == 4 and summary.files_failed == 0

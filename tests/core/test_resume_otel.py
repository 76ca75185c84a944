"""Resume documents from OTel runs: ACF documents built from the run's spans (checked by the
real agent-checkpoint-framework 0.1.0 and 0.3.0), and no native format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from baton.cli import main
from core import queries
from core.resume.acf_document import build_acf_document
from core.resume.load import load_source
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS
from tests.core.test_resume_acf import ACF_VERSIONS, acf_parse


@pytest.fixture
def loaded(store: Store) -> Engine:
    ingest_paths([SAMPLE_RUNS / "otel"], store)
    return store.engine


def _checkpoint(engine: Engine, task: str) -> dict:
    run = next(r for r in queries.list_runs(engine, framework="otel") if r["task"] == task)
    return queries.run_checkpoints(engine, run["id"])[-1]


def test_acf_document_says_what_was_asked_done_and_why_it_stopped(loaded: Engine) -> None:
    done = build_acf_document(
        load_source(loaded, _checkpoint(loaded, "Where is my order D-4004?")["id"])
    ).document
    assert done["task_summary"] == "Where is my order D-4004?"
    assert done["agent_id"] == "support-agent"
    calls = done["context_snapshot"]["tool_calls"]
    assert [c["status"] for c in calls] == ["error", "ok"]  # the failed try, then the retry
    assert calls[1]["arguments"] == '{"order": "A-1001"}'
    assert calls[1]["result"] == '{"status": "shipped", "carrier": "DHL"}'
    assert any(step.startswith("llm_call chat gpt-4o-mini") for step in done["completed_steps"])
    assert done["partial_output"]["last_output"]
    failed = build_acf_document(
        load_source(loaded, _checkpoint(loaded, "Where is my order B-2002?")["id"])
    ).document
    assert failed["failure_reason"].startswith("RateLimitError: Error code: 429")
    assert failed["context_snapshot"]["baton_export"]["failure_class"] == "rate_limit"
    assert "ERROR" in failed["context_snapshot"]["stopped_at"]
    for version in ACF_VERSIONS:
        assert all(r["ok"] for r in acf_parse(version, [done, failed])), version


def test_an_incomplete_trace_says_what_remains(loaded: Engine) -> None:
    run = next(r for r in queries.list_runs(loaded, framework="otel") if r["attributes"].get("incomplete"))
    (checkpoint,) = queries.run_checkpoints(loaded, run["id"])
    doc = build_acf_document(load_source(loaded, checkpoint["id"])).document
    assert "root span never arrived" in doc["remaining_steps"][0]
    assert doc["task_summary"].startswith("Continue the agent run recorded as OpenTelemetry trace")


def test_native_format_is_refused_with_the_reason(
    loaded: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = _checkpoint(loaded, "Where is my order A-1001?")
    code = main(["resume", checkpoint["id"], "--format", "native", "--out", str(tmp_path), "--db", db_url])
    assert code == 2
    err = capsys.readouterr().err
    assert "no native resume format" in err and "OpenTelemetry" in err
    assert main(["resume", checkpoint["id"], "--out", "-", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["task_summary"] == "Where is my order A-1001?"

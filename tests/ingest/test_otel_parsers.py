"""OTLP/JSON trace files over the committed samples (made by the real OpenTelemetry SDK, real
instrumentations and the harness/techrevati otel modules: sample_runs/otel/README.md),
ingested into a real database, plus the layouts a file exporter produces while it writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from baton.cli import main
from core import queries
from core.annotate import annotate_runs
from core.store import Store
from core.tables import Event
from ingest.content import decode
from ingest.loader import ingest_paths
from ingest.registry import detect_format
from tests.conftest import SAMPLE_RUNS

ROOT = SAMPLE_RUNS / "otel"
SAMPLES = sorted(p for p in ROOT.rglob("*") if p.suffix in (".json", ".jsonl"))


def _runs(engine: Engine) -> dict[str, dict[str, Any]]:
    """Runs by task (the question asked), else by service and agents."""
    runs = queries.list_runs(engine, framework="otel")
    annotate_runs(engine, runs)
    return {
        r["task"] or f"{r['attributes']['service.name']}:{','.join(r['agents'])}:{r['status']}": r
        for r in runs
    }


def _events(engine: Engine, run_id: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(Event).where(Event.run_id == run_id).order_by(Event.at)))


@pytest.fixture
def loaded(store: Store) -> Engine:
    summary = ingest_paths([ROOT], store)
    assert summary.files_failed == 0
    return store.engine


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(ROOT)) for p in SAMPLES])
def test_every_sample_is_recognised_by_content(path: Path) -> None:
    spec = detect_format(decode(path, path.read_bytes()))
    assert spec is not None and spec.name == "otel.traces"


def test_genai_agent_run_nests_spans_and_counts_model_calls_only(loaded: Engine) -> None:
    run = next(
        r
        for r in queries.list_runs(loaded, framework="otel")
        if r["attributes"]["service.name"] == "support-bot" and r["task"] == "Where is my order A-1001?"
    )
    assert run["status"] == "completed" and run["agents"] == ["support-agent"]
    # 420 + 480 from the two chat spans; the agent span's aggregate (900/42) is not added again.
    assert (run["input_tokens"], run["output_tokens"], run["cache_read_tokens"]) == (900, 42, 256)
    assert run["attributes"]["conversation_id"] == "conv-42"
    assert run["attributes"]["scopes"] == ["support_bot.agent 1.4.0"]
    assert run["attributes"]["resource"]["telemetry.sdk.language"] == "python"
    events = _events(loaded, run["id"])
    root = next(e for e in events if e.kind == "agent")
    assert root.parent_native_id is None and root.name == "invoke_agent support-agent"
    chats = [e for e in events if e.kind == "llm_call"]
    assert [c.model for c in chats] == ["gpt-4o-mini-2024-07-18"] * 2
    assert all(c.parent_native_id == root.native_id and c.agent_id == "support-agent" for c in chats)
    tool = next(e for e in events if e.kind == "tool_call")
    assert tool.tool == "get_order_status" and tool.duration_s is not None and tool.duration_s >= 0
    assert tool.data["attributes"]["gen_ai.tool.call.result"] == '{"status": "shipped", "carrier": "DHL"}'
    assert root.input_tokens is None  # aggregates stay in the span's attributes only


def test_deprecated_names_read_like_current_ones(loaded: Engine) -> None:
    run = next(
        r for r in queries.list_runs(loaded, framework="otel") if r["task"] == "Where is my order C-3003?"
    )
    assert (run["input_tokens"], run["output_tokens"], run["cache_read_tokens"]) == (900, 42, 256)
    assert run["status"] == "completed"


def test_failed_runs_get_their_class_and_keep_the_text(loaded: Engine) -> None:
    runs = {r["task"]: r for r in queries.list_runs(loaded, framework="otel") if r["task"]}
    annotate_runs(loaded, list(runs.values()))
    for task in ("Where is my order B-2002?", "Where is my order F-6006?"):
        run = runs[task]
        assert run["status"] == "failed" and run["failure_class"] == "rate_limit"
        assert run["failure_reason"].startswith("RateLimitError: Error code: 429")
        assert run["failure_signals"]["error.type"] == "RateLimitError"
        events = _events(loaded, run["id"])
        errors = [e for e in events if e.kind == "error"]
        assert errors and all("429" in e.error for e in errors)  # exception span events
    retried = runs["Where is my order D-4004?"]  # a tool failed once, was retried: completed
    assert retried["status"] == "completed" and retried["failure_class"] is None
    assert any(e.kind == "tool_call" and e.error for e in _events(loaded, retried["id"]))


def test_reported_cost_wins_and_computed_elsewhere(loaded: Engine) -> None:
    runs = {r["task"]: r for r in queries.list_runs(loaded, framework="otel") if r["task"]}
    annotate_runs(loaded, list(runs.values()))
    assert runs["Where is my order E-5005?"]["cost_provenance"] == "reported"
    assert runs["Where is my order E-5005?"]["cost_usd"] == pytest.approx(0.0001602)
    assert runs["Where is my order A-1001?"]["cost_provenance"] == "computed"


def test_openinference_and_openllmetry_runs(loaded: Engine) -> None:
    runs = [
        r
        for r in queries.list_runs(loaded, framework="otel")
        if r["attributes"]["service.name"].startswith("support-bot-")
    ]
    annotate_runs(loaded, runs)
    assert len(runs) == 4
    for run in runs:
        assert run["agents"] == ["support_agent"]
        if run["task"] == "Where is my order A-1001?":
            assert run["status"] == "completed"
            assert (run["input_tokens"], run["output_tokens"], run["cache_read_tokens"]) == (1252, 42, 512)
            # OpenLLMetry's request model is "unknown"; the response model is priced.
            assert run["cost_provenance"] == "computed"
        else:
            assert run["task"] == "Where is my order X-1?"
            assert run["status"] == "failed" and run["failure_class"] == "rate_limit"
    traceloop = next(
        r
        for r in runs
        if r["attributes"]["service.name"] == "support-bot-openllmetry" and r["status"] == "completed"
    )
    chats = [e for e in _events(loaded, traceloop["id"]) if e.kind == "llm_call"]
    assert chats and all(c.model == "gpt-4o-mini-2024-07-18" for c in chats)


def test_harness_quirk_does_not_fail_the_run(loaded: Engine) -> None:
    run = next(
        r
        for r in queries.list_runs(loaded, framework="otel")
        if r["attributes"]["service.name"] == "agent-harness"
    )
    assert run["status"] == "completed" and run["task"] == "Fix the worker-07 memory leak"
    assert run["input_tokens"] is None  # the hook writes no tokens: unknown, not zero
    tasks = [e for e in _events(loaded, run["id"]) if e.kind == "agent" and e.name.startswith("task:")]
    assert tasks and all(e.error is None and "quirk" in e.data for e in tasks)
    assert all(e.data["status"] == "error" for e in tasks)  # what the file says is kept
    assert {"researcher", "analyst"} <= set(run["agents"])


def test_techrevati_sessions(loaded: Engine) -> None:
    runs = [
        r
        for r in queries.list_runs(loaded, framework="otel")
        if r["attributes"]["service.name"] == "techrevati-demo"
    ]
    annotate_runs(loaded, runs)
    by_agent = {(tuple(r["agents"]), r["status"]): r for r in runs}
    failed = by_agent[(("fetcher",), "failed")]
    assert (
        failed["failure_class"] == "dependency_failed"
        and failed["failure_signals"]["error.type"] == "dependency_failed"
    )
    assert (("researcher",), "completed") in by_agent
    assert len(runs) == 3  # the role-less gate check is its own one-span trace


def test_a_trace_split_by_rotation_is_one_run(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "rotated"
    folder.mkdir()
    rotated = ROOT / "rotated" / "traces-2026-12-01T10-00-00.000.jsonl"
    shutil.copy(rotated, folder / rotated.name)
    ingest_paths([folder], store)
    (run,) = queries.list_runs(store.engine, framework="otel")
    assert run["status"] == "running" and "status" in run["inferred"]
    assert run["attributes"]["incomplete"] is True
    shutil.copy(ROOT / "rotated" / "traces.jsonl", folder / "traces.jsonl")  # the root arrives
    ingest_paths([folder], store)
    (run,) = queries.list_runs(store.engine, framework="otel")
    assert run["status"] == "completed" and run["attributes"]["incomplete"] is False
    assert run["task"] == "Where is my order G-7007?" and run["checkpoints"] == 2
    assert (run["input_tokens"], run["output_tokens"]) == (900, 42)


def test_a_trace_without_its_root_loads_incomplete(loaded: Engine) -> None:
    (run,) = [r for r in queries.list_runs(loaded, framework="otel") if r["attributes"].get("incomplete")]
    assert run["status"] == "running" and run["input_tokens"] == 900
    assert "root span" in run["attributes"]["incomplete_reason"]


def test_pretty_and_base64_documents(loaded: Engine) -> None:
    runs = {r["task"]: r for r in queries.list_runs(loaded, framework="otel") if r["task"]}
    for task in ("Where is my order I-9009?", "Where is my order J-1010?"):
        run = runs[task]
        assert run["status"] == "completed" and len(run["native_id"]) == 32
        assert all(c in "0123456789abcdef" for c in run["native_id"])
        assert run["events"] == 4


def test_a_growing_file_is_tailed_line_by_line(tmp_path: Path, store: Store) -> None:
    lines = (ROOT / "genai_agent.jsonl").read_bytes().splitlines(keepends=True)
    live = tmp_path / "spool.jsonl"
    live.write_bytes(b"")
    for index, line in enumerate(lines):
        with live.open("ab") as handle:
            handle.write(line[: len(line) // 2])  # half a line: waited for
        ingest_paths([live], store)
        with live.open("ab") as handle:
            handle.write(line[len(line) // 2 :])
        summary = ingest_paths([live], store)
        assert summary.files_failed == 0, index
    (run,) = queries.list_runs(store.engine, framework="otel")
    assert run["status"] == "completed" and run["events"] == 4
    assert (run["input_tokens"], run["output_tokens"]) == (900, 42)


def test_bad_parts_are_reported_and_the_rest_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = (ROOT / "genai_agent.jsonl").read_text().splitlines()
    request = json.loads(good[0])
    request["resourceSpans"][0]["scopeSpans"][0]["spans"].append({"name": "no ids"})
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [json.dumps(request), '{"resourceMetrics": []}', "{not json", *good[1:], '{"resourceSpans": [{']
        )
    )
    db = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["ingest", str(path), "--db", db]) == 0
    printed = capsys.readouterr()
    assert f"bad line: {path}:3" in printed.out + printed.err
    assert main(["runs", "--framework", "otel", "--json", "--db", db]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["status"] == "completed" and run["events"] == 4
    from core.db import make_engine

    (row,) = queries.source_files(make_engine(db))
    warnings = "\n".join(row["warnings"])
    assert f"{path}:1: skipped 1 span(s) without a trace or span id" in warnings
    assert f"{path}:2: skipped: resourceMetrics (not traces)" in warnings

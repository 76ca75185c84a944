"""Resume documents in the agent-checkpoint spec, checked by the real package.

Every checkpoint Baton loads from the sample runs of every landed framework is exported and
handed to ``agent_checkpoint.parse()`` of agent-checkpoint-framework 0.1.0 and 0.3.0 in their
own venvs; the parsed fields must be what the source said.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.errors import UserError
from core.resume import strategy
from core.resume.acf_document import build_acf_document
from core.resume.load import load_source
from core.resume.mappers import UnmappableCheckpoint
from core.resume.options import ExportOptions
from core.resume.source import ResumeSource
from core.resume.strategy import default_strategy, failure_class
from core.store import Store
from ingest.loader import ingest_paths
from ingest.parsers import REGISTERED
from tests.conftest import SAMPLE_RUNS
from tests.framework_envs import framework_python

ACF_VERSIONS = ("0.1.0", "0.3.0")
LANDED = sorted({spec.framework for spec in REGISTERED})

# Runs inside the ACF venv: parse every document, then resume_from the parsed checkpoint (what
# a consuming agent does), and report what the package saw.
CHECK_SCRIPT = r"""
import json, sys
import agent_checkpoint as ac
out = []
for text in json.load(sys.stdin):
    result = ac.parse(text)
    item = {"ok": result.ok, "errors": [{"field": e.field, "message": e.message} for e in result.errors]}
    if result.ok:
        item["emitted"] = json.loads(ac.emit_json(result.checkpoint))
        follow = ac.resume_from(result.checkpoint, "next-agent")
        item["resumed_parent"] = follow.parent_checkpoint_id
        item["resumed_completed"] = list(follow.completed_steps)
    out.append(item)
json.dump(out, sys.stdout)
"""


def acf_parse(version: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    python = framework_python("agent-checkpoint-framework", version)
    texts = [json.dumps(doc) for doc in documents]
    done = subprocess.run(
        [str(python), "-c", CHECK_SCRIPT],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout)


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    summary = ingest_paths([SAMPLE_RUNS], Store(engine))
    assert summary.checkpoints > 0
    return engine


def all_checkpoints(engine: Engine) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs = []
    for run in queries.list_runs(engine):
        pairs += [(run, cp) for cp in queries.run_checkpoints(engine, run["id"])]
    return pairs


def test_every_sample_checkpoint_of_every_landed_framework_parses_in_real_acf(loaded: Engine) -> None:
    pairs = all_checkpoints(loaded)
    frameworks = {run["framework"] for run, _ in pairs}
    assert set(LANDED) <= frameworks | {"acf"}, f"a landed framework has no sample checkpoints: {LANDED}"
    exports = [build_acf_document(load_source(loaded, cp["id"])) for _, cp in pairs]
    documents = [e.document for e in exports]
    for version in ACF_VERSIONS:
        results = acf_parse(version, documents)
        failures = [(pairs[i][1]["id"], r["errors"]) for i, r in enumerate(results) if not r["ok"]]
        assert not failures, f"ACF {version} rejected: {failures[:5]}"
        for (run, cp), doc, result in zip(pairs, documents, results, strict=True):
            emitted = result["emitted"]
            assert emitted["status"] == "partial"
            assert emitted["checkpoint_id"] == doc["checkpoint_id"]
            assert emitted["task_id"] == doc["task_id"]
            assert emitted["task_summary"].strip()
            assert emitted["retry_strategy"] in ("resume", "restart", "escalate")
            assert emitted["executor_hint"] in ("same", "any") or emitted["executor_hint"].startswith(
                "capability:"
            )
            assert emitted["context_snapshot"]["provenance"]["source_framework"] == run["framework"]
            assert emitted["context_snapshot"]["provenance"]["baton_checkpoint_id"] == cp["id"]
            assert result["resumed_parent"] == doc["checkpoint_id"]
            assert result["resumed_completed"] == doc["completed_steps"]


def test_acf_source_fields_carry_over(loaded: Engine) -> None:
    path = SAMPLE_RUNS / "acf/v0.3.0/exports/ci-triage/02-failed.json"
    source_doc = json.loads(path.read_text())
    source = load_source(loaded, source_doc["checkpoint_id"])
    export = build_acf_document(source, ExportOptions(agent_id="triage-02"))
    emitted = acf_parse("0.3.0", [export.document])[0]["emitted"]
    assert emitted["task_id"] == source_doc["task_id"]
    assert emitted["parent_checkpoint_id"] == source_doc["checkpoint_id"]
    assert emitted["checkpoint_id"] != source_doc["checkpoint_id"]
    assert emitted["agent_id"] == "triage-02"
    assert emitted["task_summary"] == source_doc["task_summary"]
    assert emitted["completed_steps"] == source_doc["completed_steps"]
    assert emitted["remaining_steps"] == source_doc["remaining_steps"]
    assert emitted["failure_reason"] == source_doc["failure_reason"]
    assert emitted["confidence"] == source_doc["confidence"]
    assert emitted["retry_strategy"] == source_doc["retry_strategy"]  # the source agent's own choice


def test_loopengt_steps_come_from_step_states(loaded: Engine) -> None:
    if "loopengt" not in LANDED:
        pytest.skip("loopengt parser not registered")
    run = next(r for r in queries.list_runs(loaded, framework="loopengt") if r["task"] == "nightly-etl")
    last = queries.run_checkpoints(loaded, run["id"])[-1]
    export = build_acf_document(load_source(loaded, last["id"]))
    doc = export.document
    assert doc["completed_steps"] == ["extract", "transform"]
    assert doc["remaining_steps"] == ["load", "verify"]
    assert set(doc["partial_output"]) == {"extract", "transform"}
    assert "warehouse role lacks INSERT on orders" in doc["failure_reason"]
    assert doc["context_snapshot"]["step_status"]["load"] == "failed"
    assert [h["step"] for h in doc["context_snapshot"]["history"]] == ["extract", "transform"]
    assert doc["agent_id"] == "loader"


def test_task_id_is_stable_across_exports_and_ids_are_fresh(loaded: Engine) -> None:
    for _run, cp in all_checkpoints(loaded)[::7]:
        source = load_source(loaded, cp["id"])
        first, second = build_acf_document(source).document, build_acf_document(source).document
        assert first["task_id"] == second["task_id"]
        assert first["parent_checkpoint_id"] == second["parent_checkpoint_id"]
        assert first["checkpoint_id"] != second["checkpoint_id"]
    runs = {}
    for run, cp in all_checkpoints(loaded):  # every checkpoint of one run shares the task id
        runs.setdefault(run["id"], set()).add(
            build_acf_document(load_source(loaded, cp["id"])).document["task_id"]
        )
    assert all(len(ids) == 1 for ids in runs.values())


def test_export_works_from_the_database_after_the_file_is_gone(engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / "acf"
    copy.mkdir()
    original = SAMPLE_RUNS / "acf/v0.1.0/exports/ci-triage/01-partial.json"
    (copy / "cp.json").write_bytes(original.read_bytes())
    ingest_paths([copy], Store(engine))
    (copy / "cp.json").unlink()
    doc = build_acf_document(load_source(engine, json.loads(original.read_text())["checkpoint_id"])).document
    assert acf_parse("0.1.0", [doc])[0]["ok"]
    assert doc["context_snapshot"]["provenance"]["source_file"].endswith("cp.json")


@pytest.mark.parametrize(
    ("signals", "reason", "expected_class", "expected"),
    [
        ({}, "LLM call failed: Error code: 429 - Rate limit reached", "rate_limit", "resume"),
        ({"error_kind": "unparseable_think"}, "Unparseable response: I think", "validation_error", "restart"),
        ({}, "Schema validation failed for the report", "validation_error", "restart"),
        ({}, "Tool rejected by human: no reason given", "human_rejected", "escalate"),
        ({"error_kind": "budget"}, "Cost budget exceeded: $0.0004 > $0.0003", "budget_exceeded", "escalate"),
        ({}, "This model's maximum context length is 128000 tokens", "context_overflow", "restart"),
    ],
)
def test_retry_strategy_default_follows_the_failure_class(
    signals: dict, reason: str, expected_class: str, expected: str
) -> None:
    run = {"framework": "x", "status": "failed", "failure_signals": signals, "failure_reason": reason}
    assert failure_class(run, reason) == expected_class  # the shared taxonomy when present
    assert strategy._local(run, reason) == expected_class  # the fallback without it
    assert default_strategy(expected_class) == expected


def test_retry_strategy_default_end_to_end_and_user_override(loaded: Engine) -> None:
    if "loopengt" not in LANDED:
        pytest.skip("loopengt parser not registered")
    run = next(r for r in queries.list_runs(loaded, framework="loopengt") if r["task"] == "competitor-scan")
    last = queries.run_checkpoints(loaded, run["id"])[-1]
    source = load_source(loaded, last["id"])
    doc = build_acf_document(source).document
    assert doc["retry_strategy"] == "restart"  # context_length_exceeded
    assert doc["context_snapshot"]["baton_export"]["failure_class"] == "context_overflow"
    assert doc["executor_hint"] == "any"
    chosen = build_acf_document(
        source,
        ExportOptions(retry_strategy="escalate", executor_hint="capability:review", agent_id="reviewer-9"),
    ).document
    assert (chosen["retry_strategy"], chosen["executor_hint"], chosen["agent_id"]) == (
        "escalate",
        "capability:review",
        "reviewer-9",
    )
    assert acf_parse("0.1.0", [chosen])[0]["ok"]


def test_bad_choices_and_unmappable_checkpoints_say_why(loaded: Engine) -> None:
    with pytest.raises(UserError, match="executor hint"):
        ExportOptions(executor_hint="whoever")
    with pytest.raises(UserError, match="retry strategy"):
        ExportOptions(retry_strategy="pray")
    _, cp = all_checkpoints(loaded)[0]
    source = load_source(loaded, cp["id"])
    blank = ResumeSource(
        run=source.run | {"task": None, "framework": "acf"},
        checkpoint=source.checkpoint
        | {"document": {"ac_version": "0.1.0", "checkpoint_id": "x"}, "summary": None},
    )
    with pytest.raises(UnmappableCheckpoint, match="task summary"):
        build_acf_document(blank)
    foreign = ResumeSource(
        run=source.run | {"framework": "loopengt"},
        checkpoint=source.checkpoint | {"document": ["not", "a", "checkpoint"]},
    )
    with pytest.raises(UnmappableCheckpoint, match="step_states"):
        build_acf_document(foreign)


def harness_file_source(path: Path) -> ResumeSource:
    """A harness checkpoint as the store keeps it (document, file path), built from the file:
    used while the harness parser is not registered (the exporter reads nothing else)."""
    doc = json.loads(path.read_text())
    task = doc.get("task") or doc.get("goal")
    return ResumeSource(
        run={
            "id": "r",
            "framework": "harness",
            "native_id": doc["run_id"],
            "task": task,
            "agents": [],
            "failure_signals": {},
            "status": "unknown",
        },
        checkpoint={
            "id": path.stem,
            "native_id": path.stem,
            "document": doc,
            "source_path": str(path),
            "summary": task,
            "completed_steps": [],
            "remaining_steps": [],
        },
    )


def test_every_harness_sample_document_maps_to_a_valid_acf_document() -> None:
    files = sorted(SAMPLE_RUNS.glob("harness/*/checkpoints/*.json"))
    assert files
    exports = {path: build_acf_document(harness_file_source(path)).document for path in files}
    for version in ACF_VERSIONS:
        results = acf_parse(version, list(exports.values()))
        assert all(r["ok"] for r in results), [r["errors"] for r in results if not r["ok"]]
    for path, doc in exports.items():
        source = json.loads(path.read_text())
        if "plan" in source:  # orchestrator: plan tasks split into done and remaining
            planned = [t["id"] for t in source["plan"]["tasks"]]
            listed = [s.split(" ")[0] for s in doc["completed_steps"] + doc["remaining_steps"]]
            assert sorted(listed) == sorted(planned)
            assert doc["agent_id"] == "orchestrator"
        else:
            assert doc["task_summary"] == source["task"].strip() and doc["agent_id"] == source["agent_id"]
            assert doc["context_snapshot"]["messages"] == source["memory"]["messages"]
            waiting = bool(source.get("pending")) or any(
                a["status"] == "pending" for a in source.get("actions", [])
            )
            assert waiting == doc["remaining_steps"][0].startswith("approve and run shell")
            assert doc["remaining_steps"][-1].startswith(f"continue the ReAct loop at step {source['step']}")


def test_techrevati_turn_checkpoint_carries_the_turn_result(loaded: Engine) -> None:
    if "techrevati" not in LANDED:
        pytest.skip("techrevati parsers not registered")
    run = next(r for r in queries.list_runs(loaded, framework="techrevati") if r["checkpoints"])
    last = queries.run_checkpoints(loaded, run["id"], with_documents=True)[-1]
    doc = build_acf_document(load_source(loaded, last["id"])).document
    assert doc["completed_steps"] == last["completed_steps"] and doc["completed_steps"]
    assert doc["partial_output"] == last["document"]["state"]["result"]
    thread = last["document"]["thread_id"]
    assert (
        thread in doc["task_summary"] and f"thread_id={thread!r}" in doc["context_snapshot"]["how_to_resume"]
    )
    assert acf_parse("0.3.0", [doc])[0]["ok"]


def test_export_from_the_last_good_checkpoint_carries_the_runs_failure_class(loaded: Engine) -> None:
    """The usual hand-off starts from the last good checkpoint, which records no failure itself:
    the export must still carry the class `baton failures` shows, and its default strategy."""
    from core.failures import failed_runs

    mismatches = []
    for info in failed_runs(loaded):
        if not info.last_good_checkpoint:
            continue
        doc = build_acf_document(load_source(loaded, info.last_good_checkpoint)).document
        exported = doc["context_snapshot"]["baton_export"]["failure_class"]
        if exported != info.failure_class or doc["retry_strategy"] is None:
            mismatches.append((info.run_id, info.failure_class, exported))
    assert not mismatches

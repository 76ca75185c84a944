"""Resuming LangGraph threads: the ACF document (valid under agent-checkpoint-framework
0.1.0 and 0.3.0) and the native Python, run by the real langgraph to continue a thread from
the checkpoint Baton chose."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from baton.cli import main
from core import queries
from core.resume.acf_document import build_acf_document
from core.resume.load import load_source
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS
from tests.core.test_resume_acf import ACF_VERSIONS, acf_parse
from tests.framework_envs import langgraph_python
from tests.helpers import copy_tree

GENERATOR = REPO / "sample_runs" / "generators" / "make_langgraph.py"


def _run(engine: Engine, thread: str, database: str = "checkpoints.sqlite") -> dict[str, Any]:
    (run,) = [
        r
        for r in queries.list_runs(engine)
        if r["native_id"].split("@")[0] == thread and r["native_id"].endswith(database)
    ]
    return run


def _latest_root(engine: Engine, run_id: str) -> dict[str, Any]:
    cps = [
        c
        for c in queries.run_checkpoints(engine, run_id, with_documents=True)
        if not c["document"]["checkpoint_ns"]
    ]
    return max(cps, key=lambda c: c["document"]["checkpoint_id"])


def test_acf_resume_of_a_waiting_thread_asks_the_interrupt_question(tmp_path: Path, store: Store) -> None:
    ingest_paths([copy_tree(SAMPLE_RUNS / "langgraph" / "lgcs-3.1.2", tmp_path / "lg")], store)
    waiting = _run(store.engine, "waiting")
    export = build_acf_document(load_source(store.engine, _latest_root(store.engine, waiting["id"])["id"]))
    doc = export.document
    assert doc["task_summary"] == "Please refund order A-1001."
    # (PostgreSQL's JSONB keeps object keys in its own order)
    assert doc["remaining_steps"][0].startswith("answer the interrupt: {")
    assert '"question": "Refund $120 to order A-1001?"' in doc["remaining_steps"][0]
    assert any("I can refund $120" in step for step in doc["completed_steps"])
    context = doc["context_snapshot"]
    assert context["interrupt"] == {"question": "Refund $120 to order A-1001?", "amount": 120}
    assert [m["role"] for m in context["messages"]] == ["user", "assistant"]
    loop = _run(store.engine, "tool-loop")
    loop_export = build_acf_document(load_source(store.engine, _latest_root(store.engine, loop["id"])["id"]))
    text = json.dumps(loop_export.document)
    assert "sk-proj-" not in text
    for version in ACF_VERSIONS:
        results = acf_parse(version, [doc, loop_export.document])
        assert all(r["ok"] for r in results), (version, [r["errors"] for r in results])


RUN_EXPORT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import make_langgraph as m
exported = json.load(open(sys.argv[2]))
scenario = sys.argv[3]
if scenario == "waiting":
    builder, answer = m.approval_graph(), "approved"
else:
    builder = m.tool_loop_graph(m.tool_loop_replies("tl"), fail_first="lookup_customer")
exec(exported["python"])
print(json.dumps({"last": result["messages"][-1].content}))
"""


@pytest.mark.parametrize("version", ["2.0.11", "3.1.2"])
def test_native_resume_continues_the_thread_in_real_langgraph(
    version: str, tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    python = langgraph_python(version)
    subprocess.run(
        [str(python), str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True, timeout=600
    )
    folder = tmp_path / f"lgcs-{version}"
    ingest_paths([folder], store)
    db_url = str(store.engine.url)
    # 1. A thread waiting on interrupt(): Command(resume=answer) from its newest checkpoint.
    waiting = _run(store.engine, "waiting")
    chosen = _latest_root(store.engine, waiting["id"])
    out = tmp_path / "outbox"
    assert (
        main(["resume", chosen["id"], "--format", "native", "--out", str(out), "--json", "--db", db_url]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    exported = json.loads(Path(summary["path"]).read_text())
    assert exported["config"]["configurable"] == {
        "thread_id": "waiting",
        "checkpoint_ns": "",
        "checkpoint_id": chosen["document"]["checkpoint_id"],
    }
    assert "graph.invoke(Command(resume=answer), config)" in exported["python"]
    assert exported["interrupt"] == {"question": "Refund $120 to order A-1001?", "amount": 120}
    assert summary["command"] == exported["python"]
    done = subprocess.run(
        [str(python), "-c", RUN_EXPORT, str(GENERATOR.parent), summary["path"], "waiting"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1])["last"] == "Refund approved: $120 sent."
    # 2. An older checkpoint of a finished thread (the model had asked for a tool): from there.
    loop = _run(store.engine, "tool-loop")
    asked = [
        c
        for c in queries.run_checkpoints(store.engine, loop["id"], with_documents=True)
        if "branch:to:tools" in c["document"]["checkpoint"]["channel_values"]
    ]
    chosen = min(asked, key=lambda c: c["document"]["checkpoint_id"])
    assert (
        main(["resume", chosen["id"], "--format", "native", "--out", str(out), "--json", "--db", db_url]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    exported = json.loads(Path(summary["path"]).read_text())
    assert "graph.invoke(None, config)" in exported["python"] and "update_state(config" in exported["python"]
    done = subprocess.run(
        [str(python), "-c", RUN_EXPORT, str(GENERATOR.parent), summary["path"], "tool-loop"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "in transit" in json.loads(done.stdout.strip().splitlines()[-1])["last"]
    # Baton sees both threads continue: the waiting one completed, the tool loop branched.
    ingest_paths([folder], store)
    assert _run(store.engine, "waiting")["status"] == "completed"
    assert _run(store.engine, "tool-loop")["checkpoints"] > loop["checkpoints"]
    parents = [c["parent_id"] for c in queries.run_checkpoints(store.engine, loop["id"]) if c["parent_id"]]
    assert len(parents) > len(set(parents))  # a checkpoint with two children: the new branch

"""Native resume proofs: an exported file is picked up by the real framework, which then
finishes the run (stub LLMs only, in the frameworks' own venvs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.resume.export import build_export, write_export
from core.resume.load import load_source
from core.resume.options import ExportOptions
from core.resume.source import ResumeSource
from core.store import Store
from ingest.loader import ingest_paths
from ingest.parsers import REGISTERED
from tests.conftest import REPO, SAMPLE_RUNS
from tests.core.test_resume_acf import harness_file_source
from tests.framework_envs import framework_python

LANDED = {spec.framework for spec in REGISTERED}
LOOPENGT = SAMPLE_RUNS / "loopengt/v0.1.0"

LOOPENGT_DRIVER = r"""
import asyncio, json, pathlib, sys
import yaml
from loopengt.core.models.loop_spec import LoopSpec
from loopengt.core.runtime.checkpoint import CheckpointManager
from loopengt.core.runtime.executor import LoopExecutor

runs_dir, run_id, checkpoint_id, spec_path = sys.argv[1:5]

async def main():
    cm = CheckpointManager(runs_dir=pathlib.Path(runs_dir))
    cp = await cm.load(run_id, checkpoint_id)
    latest = await cm.load(run_id)  # no id: the newest file, which must be the export
    executor = LoopExecutor(LoopSpec.model_validate(yaml.safe_load(open(spec_path))))
    cm.restore_state(cp, executor._state)
    state = await executor.resume()
    return {"latest": latest.checkpoint_id, "status": state.status.value, "error": state.error,
            "steps": {n: [s.status.value, s.attempts] for n, s in state.step_states.items()},
            "history": [h["step"] for h in state.history]}

print(json.dumps(asyncio.run(main())))
"""

HARNESS_DRIVER = r"""
import asyncio, json, sys
sys.path.insert(0, sys.argv[3])
import make_harness as mh
from harness.checkpoint import FileCheckpointStore
from harness.runtime import AgentRegistry, AgentRuntime, ToolRegistry
from memory.manager import MemoryManager
from memory.stores import InMemoryEpisodicStore, InMemorySemanticStore

checkpoint_dir, key = sys.argv[1], sys.argv[2]
seen = []

def script(agent, task, step):
    seen.append({"agent": agent, "task": task, "step": step})
    return mh.finish(f"{agent} finished after resuming at step {step}", 0.7)

llm = mh.StubLLM(script, route="researcher")
agents, tools = AgentRegistry(), ToolRegistry()
for spec in (mh.RESEARCHER, mh.ANALYST):
    agents.register(mh._cfg(spec, checkpoint_every=1))
for name, fn in mh.TOOLS.items():
    tools.register(mh.Tool(name, fn))
memory = MemoryManager(InMemorySemanticStore(), InMemoryEpisodicStore(), llm)
runtime = AgentRuntime(agent_registry=agents, tool_registry=tools, memory=memory, llm=llm,
                       checkpoint_store=FileCheckpointStore(checkpoint_dir))
result = asyncio.run(runtime.resume(key))
print(json.dumps({"result": result, "seen": seen}, default=str))
"""


def run_driver(python: Path, script: str, *args: str, cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={"HOME": str(cwd), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    ingest_paths([SAMPLE_RUNS], Store(engine))
    return engine


def _loopengt_checkpoint(engine: Engine, loop: str, status: str) -> str:
    run = next(
        r
        for r in queries.list_runs(engine, framework="loopengt")
        if r["task"] == loop and r["status"] == status
    )
    return queries.run_checkpoints(engine, run["id"])[-1]["id"]


@pytest.mark.parametrize(
    ("loop", "status", "done_before"),
    [
        ("long-migration", "paused", ["design", "implement"]),
        ("nightly-etl", "failed", ["extract", "transform"]),
    ],
)
def test_loopengt_resumes_from_an_exported_checkpoint(
    loaded: Engine, tmp_path: Path, loop: str, status: str, done_before: list[str]
) -> None:
    if "loopengt" not in LANDED:
        pytest.skip("loopengt parser not registered")
    result = build_export(
        load_source(loaded, _loopengt_checkpoint(loaded, loop, status)), ExportOptions(format="native")
    )
    assert result.format == "loopengt"
    out = tmp_path / "outbox"
    path = write_export(result, out)
    run_id = result.document["run_id"]
    assert path == out.resolve() / run_id / "checkpoints" / f"{result.document_id}.json"
    spec = LOOPENGT / f"{loop}.yaml"
    state = run_driver(
        framework_python("loopengt", "0.1.0"),
        LOOPENGT_DRIVER,
        str(out),
        run_id,
        result.document_id,
        str(spec),
        cwd=tmp_path,
    )
    assert state["latest"] == result.document_id
    assert state["status"] == "completed", state
    assert all(s == "completed" for s, _ in state["steps"].values()), state["steps"]
    for step in done_before:  # restored as done, not run again
        assert state["steps"][step][1] == 1
    assert state["history"][: len(done_before)] == done_before
    assert state["history"][len(done_before) :] == [s for s in state["steps"] if s not in done_before]
    assert "loopengt.core.runtime.checkpoint import CheckpointManager" in result.command(out)


def _harness_source(engine: Engine, path: Path) -> ResumeSource:
    """The stored checkpoint when the harness parser is registered, else the same fields
    built from the file (the exporter reads nothing else)."""
    doc = json.loads(path.read_text())
    if "harness" in LANDED:
        for run in queries.list_runs(engine, framework="harness"):
            for cp in queries.run_checkpoints(engine, run["id"], with_documents=True):
                if cp.get("document") == doc:
                    return load_source(engine, cp["id"])
    return harness_file_source(path)


def crashed_run_checkpoint(version: str) -> Path:
    """The agent checkpoint the real harness left when its process was killed mid-run."""
    folder = SAMPLE_RUNS / f"harness/v{version}"
    trace = next(folder.glob("traces/crash_periodic--*.jsonl"))
    run_id = trace.stem.removeprefix("crash_periodic--")
    return folder / "checkpoints" / f"{run_id}:researcher.json"


@pytest.mark.parametrize("version", ["0.0.2", "0.14.0"])
def test_harness_resumes_a_crashed_run_from_an_exported_checkpoint(
    loaded: Engine, tmp_path: Path, version: str
) -> None:
    source_path = crashed_run_checkpoint(version)
    file = source_path.name
    source = _harness_source(loaded, source_path)
    result = build_export(source, ExportOptions(format="native"))
    assert result.format == "harness"
    key = file.removesuffix(".json")
    assert result.document_id == key
    out = tmp_path / "checkpoints"
    assert write_export(result, out) == out.resolve() / file
    assert result.command(out) == f"CHECKPOINT_DIR={out.resolve()} python YOUR_SCRIPT.py --resume {key}"
    state = run_driver(
        framework_python("react-agent-harness", version),
        HARNESS_DRIVER,
        str(out),
        key,
        str(REPO / "sample_runs/generators"),
        cwd=tmp_path,
    )
    stored = json.loads(source_path.read_text())
    assert state["result"]["answer"] == f"researcher finished after resuming at step {stored['step']}"
    assert state["seen"][0]["task"] == stored["task"]  # the transcript came from the export


def test_native_format_of_a_framework_without_one_says_so(loaded: Engine) -> None:
    run = queries.list_runs(loaded, framework="acf")[0]
    source = load_source(loaded, queries.run_checkpoints(loaded, run["id"])[0]["id"])
    with pytest.raises(Exception, match="no native resume format"):
        build_export(source, ExportOptions(format="native"))
    with pytest.raises(Exception, match="needs a harness checkpoint"):
        build_export(source, ExportOptions(format="harness"))

"""Every run gets a short human name, the same in `baton runs` and on the dashboard's pages."""

from __future__ import annotations

import pytest

from baton.cli import main
from core import queries
from core.db import make_engine
from core.run_names import run_name
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS


def test_the_task_else_agent_phase_project_else_the_file_name() -> None:
    assert run_name({"task": "Fix the leak\nin worker-07", "native_id": "x"}) == "Fix the leak"
    techrevati = {
        "task": None,
        "agents": ["coder"],
        "attributes": {"role": "coder", "phase": "build", "project_id": "42"},
    }
    assert run_name(techrevati) == "coder · build · project 42"
    no_project = {
        "agents": ["writer"],
        "attributes": {"role": "writer", "phase": "draft", "project_id": "None"},
    }
    assert run_name(no_project) == "writer · draft"
    events_only = {
        "native_id": "/home/me/agents/techrevati/v0.1.0/waiting.jsonl#unattributed",
        "attributes": {},
    }
    assert run_name(events_only) == "waiting.jsonl#unattributed"
    assert run_name({"native_id": "0facd0543b02", "attributes": {}}) == "0facd0543b02"
    assert len(run_name({"task": "x" * 500})) == 60


def test_every_sample_run_has_a_readable_name_and_baton_runs_prints_it(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(db_url)
    ingest_paths([SAMPLE_RUNS], Store(engine))
    runs = queries.list_runs(engine)
    engine.dispose()
    for run in runs:
        # a name, never a path (a task may hold a slash: "… across src/")
        assert run["name"] and not run["name"].startswith("/") and len(run["name"]) <= 60, run
        assert str(SAMPLE_RUNS) not in run["name"] and "sample_runs/" not in run["name"], run
        assert run["short_id"] == run["id"][:8]
    assert all(r["name"] != r["native_id"] for r in runs if r["framework"] == "techrevati")
    assert main(["runs", "--db", db_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["ID", "NAME"]
    for run in runs:
        assert any(line.startswith(run["id"]) and run["name"][:38] in line for line in lines), run["name"]
    assert not any(" None " in line for line in lines)

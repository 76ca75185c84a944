"""Resume exports of every Claude Code sample run: the native form is the ``claude --resume``
command in the session's directory (``--fork-session`` from an earlier checkpoint), printed by
the real CLI; the acf form parses under agent-checkpoint-framework 0.1.0 and 0.3.0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.resume.acf_document import build_acf_document
from core.resume.export import build_export
from core.resume.load import load_source
from core.resume.options import ExportOptions
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS
from tests.core.test_resume_acf import ACF_VERSIONS, acf_parse

SAMPLES = SAMPLE_RUNS / "claude_code"


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    ingest_paths([SAMPLES], Store(engine))
    return engine


def test_native_resume_of_every_run_is_claude_resume_in_its_directory(loaded: Engine) -> None:
    runs = queries.list_runs(loaded, framework="claude_code")
    assert len(runs) == 13
    for run in runs:
        checkpoints = queries.run_checkpoints(loaded, run["id"])
        latest = run["attributes"]["latest_checkpoint"]
        for cp in checkpoints:
            result = build_export(load_source(loaded, cp["id"]), ExportOptions(format="native"))
            assert result.format == "claude_code"
            command = result.command(Path("/unused"))
            cwd = "/home/dev/scratch" if run["native_id"].endswith("13") else "/home/dev/webapp"
            assert command.startswith(f"cd {cwd} && claude --resume {run['native_id']}")
            assert ("--fork-session" in command) == (cp["native_id"] != latest), (
                run["native_id"],
                cp["summary"],
            )


def test_an_earlier_prompt_forks_at_the_message_before_it(loaded: Engine) -> None:
    run = next(r for r in queries.list_runs(loaded, framework="claude_code") if r["native_id"].endswith("04"))
    second = next(
        cp
        for cp in queries.run_checkpoints(loaded, run["id"])
        if cp["summary"] == "Make it keep unicode letters"
    )
    result = build_export(load_source(loaded, second["id"]), ExportOptions(format="native"))
    parent = result.document["resume_session_at"]
    assert result.document["fork_session"] is True
    assert result.command().endswith(f"--fork-session --resume-session-at {parent}")
    assert parent == load_source(loaded, second["id"]).document["parentUuid"]


def test_cli_prints_the_native_command(loaded: Engine, db_url: str, tmp_path: Path) -> None:
    run = next(r for r in queries.list_runs(loaded, framework="claude_code") if r["native_id"].endswith("06"))
    (cp,) = [
        c
        for c in queries.run_checkpoints(loaded, run["id"])
        if c["native_id"] == run["attributes"]["latest_checkpoint"]
    ]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "baton",
            "resume",
            cp["id"],
            "--format",
            "native",
            "--out",
            str(tmp_path),
            "--db",
            db_url,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"resume: cd /home/dev/webapp && claude --resume {run['native_id']}\n" in done.stdout


def test_acf_resume_of_every_checkpoint_parses_in_both_versions(loaded: Engine) -> None:
    pairs = [
        (run, cp)
        for run in queries.list_runs(loaded, framework="claude_code")
        for cp in queries.run_checkpoints(loaded, run["id"])
    ]
    documents = [build_acf_document(load_source(loaded, cp["id"])).document for _, cp in pairs]
    for version in ACF_VERSIONS:
        results = acf_parse(version, documents)
        assert [r["errors"] for r in results if not r["ok"]] == []
        for (_run, cp), result in zip(pairs, results, strict=True):
            emitted = result["emitted"]
            assert emitted["task_summary"] == cp["summary"]
            assert emitted["context_snapshot"]["provenance"]["source_framework"] == "claude_code"

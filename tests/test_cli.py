"""The CLI end to end against a real SQLite file, as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from baton.cli import main
from core.db import make_engine
from tests.conftest import SAMPLE_RUNS

SUMMARY_KEYS = [
    "files_seen",
    "files_loaded",
    "files_unchanged",
    "files_ignored",
    "files_failed",
    "files_skipped",
    "runs",
    "checkpoints",
    "events",
    "seconds",
]
RUN_KEYS = {
    "id",
    "framework",
    "native_id",
    "status",
    "agents",
    "started_at",
    "ended_at",
    "checkpoints",
    "events",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "failure_reason",
}


def baton(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> str:
    code, out, _ = baton(capsys, "ingest", str(SAMPLE_RUNS / "acf"), "--db", sqlite_url, "--json")
    assert code == 0, out
    return sqlite_url


def test_ingest_json_summary_has_exactly_the_documented_keys(capsys, sqlite_url: str) -> None:
    code, out, _ = baton(capsys, "ingest", str(SAMPLE_RUNS / "acf"), "--db", sqlite_url, "--json")
    summary = json.loads(out)
    assert list(summary) == SUMMARY_KEYS
    assert code == 0
    assert summary["files_loaded"] > 0 and summary["runs"] > 0 and summary["checkpoints"] >= summary["runs"]
    code, out, _ = baton(capsys, "ingest", str(SAMPLE_RUNS / "acf"), "--db", sqlite_url, "--json")
    again = json.loads(out)
    assert again["files_unchanged"] == summary["files_seen"] and again["files_loaded"] == 0


def test_ingest_of_broken_files_lists_them_and_exits_1(capsys, sqlite_url: str) -> None:
    code, out, err = baton(capsys, "ingest", str(SAMPLE_RUNS / "broken"), "--db", sqlite_url)
    assert code == 1
    assert "4 failed" in out and "3 ignored" in out  # bad_middle_line.jsonl loads its good lines
    assert "truncated_checkpoint.json:" in err and "truncated JSON" in err
    code, out, _ = baton(capsys, "errors", "--db", sqlite_url, "--json")
    failures = {Path(f["path"]).name: f for f in json.loads(out)}
    assert failures["wrong_types.json"]["error"] == "field 'checkpoint_id' must be a non-empty string"
    assert failures["bad_middle_line.jsonl"]["line"] == 2


def test_runs_json_lists_runs_with_documented_keys(capsys, loaded: str) -> None:
    code, out, _ = baton(capsys, "runs", "--db", loaded, "--json")
    runs = json.loads(out)
    assert code == 0 and runs
    for run in runs:
        assert run.keys() >= RUN_KEYS
        assert run["framework"] == "acf"
        assert run["status"] in {"running", "paused", "waiting", "failed", "completed", "unknown"}
    code, out, _ = baton(capsys, "runs", "--db", loaded, "--json", "--status", "failed")
    failed = json.loads(out)
    assert failed and all(r["status"] == "failed" for r in failed)
    assert len(failed) < len(runs)


def test_show_accepts_prefix_and_prints_forest(capsys, loaded: str) -> None:
    _, out, _ = baton(capsys, "runs", "--db", loaded, "--json")
    run = max(json.loads(out), key=lambda r: r["checkpoints"])
    code, out, _ = baton(capsys, "show", run["id"][:8], "--db", loaded, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["id"] == run["id"]
    assert len(shown["checkpoints"]) == run["checkpoints"]
    ids = {cp["id"] for cp in shown["checkpoints"]}
    for cp in shown["checkpoints"]:
        assert {"id", "native_id", "parent_id", "agent_id", "status", "created_at"} <= cp.keys()
        assert cp["parent_id"] is None or cp["parent_id"] in ids
    code, out, _ = baton(capsys, "show", run["native_id"], "--db", loaded)
    assert code == 0 and f"run {run['id']}" in out and "checkpoints (" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/no/such/folder"], "no such file or folder: /no/such/folder"),
        (["runs", "--db", "nosuchdialect://x"], "cannot use database URL"),
        (["show", "zzzzzz"], "no run with id 'zzzzzz'"),
        (["show", ""], "no run id given"),
    ],
)
def test_user_mistakes_print_one_line_and_exit_2(capsys, loaded: str, args: list[str], message: str) -> None:
    if "--db" not in args:
        args = [*args, "--db", loaded]
    code, out, err = baton(capsys, *args)
    assert code == 2
    assert err.startswith("baton: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_ambiguous_prefix_is_refused(capsys, loaded: str) -> None:
    _, out, _ = baton(capsys, "runs", "--db", loaded, "--json")
    ids = [r["id"] for r in json.loads(out)]
    # the empty-ish prefix every run id shares at length 0 is refused; take a shared first char if any
    first_chars = [i[0] for i in ids]
    shared = next((c for c in first_chars if first_chars.count(c) > 1), None)
    if shared is None:
        pytest.skip("no two sample run ids share a first character")
    code, _, err = baton(capsys, "show", shared, "--db", loaded)
    assert code == 2 and "ambiguous" in err


def test_console_script_runs_as_installed(sqlite_url: str) -> None:
    baton_script = shutil.which("baton") or pytest.fail("the baton console script is not installed")
    make_engine(sqlite_url).dispose()  # an empty database (read commands no longer create one)
    result = subprocess.run(
        [baton_script, "runs", "--db", sqlite_url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "No runs. Load some with: baton ingest PATH" in result.stdout


def test_text_from_files_cannot_drive_the_terminal(capsys, sqlite_url: str, tmp_path: Path) -> None:
    doc = json.loads((SAMPLE_RUNS / "acf/v0.1.0/exports/ci-triage/02-failed.json").read_text())
    doc.update(
        agent_id="agent\x1b]0;pwned\x07", task_summary="\x1b[2Jcleared", failure_reason="bad\x1b[31m red"
    )
    (tmp_path / "hostile.json").write_text(json.dumps(doc))
    baton(capsys, "ingest", str(tmp_path), "--db", sqlite_url)
    for args in (["runs"], ["show", doc["task_id"][:8]], ["failures"]):
        _, out, err = baton(capsys, *args, "--db", sqlite_url)
        assert "\x1b" not in out + err and "\x07" not in out + err, args
    _, out, _ = baton(capsys, "runs", "--db", sqlite_url)
    assert "agent]0;pwned" in out and "bad[31m red" in out  # the text is shown, minus its control bytes

"""``baton resume`` and ``baton exports`` end to end against a real SQLite file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from baton.cli import main
from ingest.parsers import REGISTERED
from tests.conftest import SAMPLE_RUNS
from tests.core.test_resume_acf import acf_parse

SECRET = "sk-proj-Q3xv7H2kLmN9pR4sT6uW8yZ0aB1cD3eF5gH7iJ9kL"


def baton(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def acf_doc(**extra: Any) -> dict[str, Any]:
    return {
        "ac_version": "0.1.0",
        "checkpoint_id": str(uuid.uuid4()),
        "task_id": str(uuid.uuid4()),
        "agent_id": "writer-01",
        "emitted_at": "2026-11-22T10:52:44+00:00",
        "status": "failed",
        "task_summary": "Write the release notes",
        "completed_steps": ["collect PRs"],
        "remaining_steps": ["draft", "publish"],
        "failure_reason": "HTTP 429 rate limit from the LLM",
    } | extra


@pytest.fixture
def db(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("BATON_OUTBOX", str(tmp_path / "outbox"))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "secret.json").write_text(
        json.dumps(
            acf_doc(
                checkpoint_id="11111111-1111-4111-8111-111111111111",
                context_snapshot={"env": {"OPENAI_API_KEY": SECRET}, "log": f"called with key {SECRET}"},
            )
        )
    )
    (extra / "big.json").write_text(
        json.dumps(
            acf_doc(
                checkpoint_id="22222222-2222-4222-8222-222222222222",
                context_snapshot={
                    "messages": [
                        {"role": "system", "content": "You write notes.", "pinned": True},
                        {"role": "user", "content": "Write the release notes"},
                    ]
                    + [{"role": "assistant", "content": f"turn {i} " + "x" * 900} for i in range(60)]
                },
            )
        )
    )
    code, _, _ = baton(
        capsys,
        "ingest",
        str(SAMPLE_RUNS / "acf"),
        str(SAMPLE_RUNS / "loopengt"),
        str(extra),
        "--db",
        sqlite_url,
    )
    assert code == 0
    return sqlite_url


def test_resume_writes_to_the_outbox_and_prints_where(capsys, db: str, tmp_path: Path) -> None:
    code, out, _ = baton(capsys, "resume", "1111111", "--db", db)
    assert code == 0
    path = Path(out.split()[1])
    assert path.parent == (tmp_path / "outbox" / "acf").resolve() and path.is_file()
    doc = json.loads(path.read_text())
    assert doc["parent_checkpoint_id"] == "11111111-1111-4111-8111-111111111111"
    assert doc["retry_strategy"] == "resume" and doc["executor_hint"] == "same"  # rate limit
    assert "redacted: 2 value(s) at $.context_snapshot.env.OPENAI_API_KEY, $.context_snapshot.log" in out
    assert SECRET not in path.read_text()
    assert acf_parse("0.1.0", [doc])[0]["ok"]


def test_out_dash_prints_the_document_and_options_apply(capsys, db: str) -> None:
    code, out, err = baton(
        capsys,
        "resume",
        "11111111-1111-4111-8111-111111111111",
        "--db",
        db,
        "--out",
        "-",
        "--agent",
        "writer-02",
        "--strategy",
        "escalate",
        "--hint",
        "capability:editing",
    )
    assert code == 0
    doc = json.loads(out)
    assert (doc["agent_id"], doc["retry_strategy"], doc["executor_hint"]) == (
        "writer-02",
        "escalate",
        "capability:editing",
    )
    assert "redacted: 2" in err
    code, out, _ = baton(
        capsys,
        "resume",
        "1111111",
        "--db",
        db,
        "--stdout",
        "--retry-strategy",
        "restart",
        "--executor-hint",
        "any",
    )
    assert json.loads(out)["retry_strategy"] == "restart"


def test_no_redact_is_explicit_and_says_so(capsys, db: str) -> None:
    code, out, err = baton(capsys, "resume", "1111111", "--db", db, "--out", "-", "--no-redact")
    assert code == 0 and SECRET in out
    assert "redaction: off" in err
    assert json.loads(out)["context_snapshot"]["baton_export"]["redaction"]["enabled"] is False


def test_max_bytes_trims_old_messages_and_reports_it(capsys, db: str, tmp_path: Path) -> None:
    target = tmp_path / "custom" / "notes.json"
    target.parent.mkdir()
    code, out, _ = baton(
        capsys, "resume", "2222222", "--db", db, "--max-bytes", "20000", "--out", str(target)
    )
    assert code == 0 and "context trimmed" in out
    doc = json.loads(target.read_text())
    assert len(target.read_bytes()) <= 20000
    messages = doc["context_snapshot"]["messages"]
    assert messages[0]["role"] == "system" and messages[1]["content"] == "Write the release notes"
    assert messages[-1]["content"].startswith("turn 59 ")  # the newest are kept
    dropped = doc["context_snapshot"]["baton_export"]["trim"]["dropped"][0]
    assert dropped["path"] == "$.context_snapshot.messages" and dropped["count"] == 62 - len(messages)
    assert acf_parse("0.3.0", [doc])[0]["ok"]


def test_native_format_writes_the_framework_tree_and_the_command(capsys, db: str, tmp_path: Path) -> None:
    if "loopengt" not in {spec.framework for spec in REGISTERED}:
        pytest.skip("loopengt parser not registered")
    code, out, _ = baton(
        capsys, "runs", "--db", db, "--json", "--framework", "loopengt", "--status", "paused"
    )
    run = json.loads(out)[0]
    code, out, _ = baton(capsys, "show", run["id"], "--db", db, "--json")
    checkpoint = json.loads(out)["checkpoints"][-1]["id"]
    code, out, _ = baton(
        capsys,
        "resume",
        checkpoint,
        "--db",
        db,
        "--format",
        "native",
        "--out",
        str(tmp_path / "native"),
        "--json",
    )
    summary = json.loads(out)
    assert code == 0 and summary["format"] == "loopengt"
    path = Path(summary["path"])
    assert (
        path
        == (tmp_path / "native").resolve()
        / run["native_id"]
        / "checkpoints"
        / f"{summary['document_id']}.json"
    )
    assert "CheckpointManager(runs_dir=pathlib.Path(" in summary["command"]


def test_mistakes_exit_2_with_one_line(capsys, db: str) -> None:
    code, _, err = baton(capsys, "resume", "ffffffffffff", "--db", db)
    assert code == 2 and "no checkpoint" in err
    code, _, err = baton(capsys, "resume", "1111111", "--db", db, "--hint", "anyone")
    assert code == 2 and "executor hint" in err
    code, _, err = baton(capsys, "resume", "1111111", "--db", db, "--format", "native")
    assert code == 2 and "no native resume format" in err
    code, _, err = baton(capsys, "resume", "1111111", "--db", db, "--max-bytes", "10")
    assert code == 2 and "too small" in err


def test_exports_lists_the_log(capsys, db: str) -> None:
    code, out, _ = baton(capsys, "exports", "--db", db)
    assert code == 0 and "No exports yet" in out
    baton(capsys, "resume", "1111111", "--db", db)
    baton(capsys, "resume", "1111111", "--db", db, "--out", "-", "--no-redact")
    code, out, _ = baton(capsys, "exports", "--db", db, "--json")
    log = json.loads(out)
    assert [e["destination"] for e in log][0] == "stdout" and len(log) == 2
    assert log[1]["redacted"] == 2 and log[0]["redacted"] == 0 and log[0]["options"]["redact"] is False
    code, out, _ = baton(capsys, "exports", "--db", db, "--checkpoint", "1111111")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3 and lines[1].split()[3] == "acf" and "stdout" in lines[1]


def test_prompt_format_writes_a_markdown_brief_and_prints_the_start_commands(
    capsys, db: str, tmp_path: Path
) -> None:
    code, out, _ = baton(capsys, "resume", "1111111", "--db", db, "--format", "prompt")
    assert code == 0
    first = out.splitlines()[0]
    path = Path(first.split()[1])
    assert path.parent == (tmp_path / "outbox" / "prompt").resolve() and path.suffix == ".md"
    assert "(prompt, " in first
    text = path.read_text()
    assert text.startswith("# Handoff brief\n") and "Write the release notes" in text
    assert "- Failure class: `rate_limit`" in text and "HTTP 429 rate limit from the LLM" in text
    assert SECRET not in text  # the brief leaves the context (where the key is) out
    assert "redacted: nothing looked like a secret" in out
    starts = [line for line in out.splitlines() if line.startswith("start: ")]
    assert starts == [
        f'start: claude -p "$(cat {path})"',
        f'start: codex exec "$(cat {path})"',
        f'start: gemini -p "$(cat {path})"',
    ]
    code, out, _ = baton(capsys, "exports", "--db", db, "--json")
    (logged,) = json.loads(out)
    assert (logged["format"], logged["destination"]) == ("prompt", str(path))
    assert logged["document_id"] in text


def test_prompt_format_to_stdout_a_file_and_under_a_budget(capsys, db: str, tmp_path: Path) -> None:
    code, out, err = baton(capsys, "resume", "2222222", "--db", db, "--format", "prompt", "--out", "-")
    assert code == 0 and out.startswith("# Handoff brief\n") and "redacted: nothing" in err
    steps = tmp_path / "steps"
    steps.mkdir()
    long_run = acf_doc(
        checkpoint_id="33333333-3333-4333-8333-333333333333",
        completed_steps=[f"step {n}: " + "y" * 100 for n in range(200)],
    )
    (steps / "steps.json").write_text(json.dumps(long_run))
    assert baton(capsys, "ingest", str(steps), "--db", db)[0] == 0
    target = tmp_path / "briefs" / "next.md"
    target.parent.mkdir()
    code, out, _ = baton(
        capsys,
        "resume",
        "3333333",
        "--db",
        db,
        "--format",
        "prompt",
        "--max-bytes",
        "4096",
        "--out",
        str(target),
    )
    assert code == 0 and f"wrote {target.resolve()} (prompt, " in out
    assert len(target.read_bytes()) <= 4096 and "note: trimmed to fit the byte budget" in out
    assert 'BRIEF="$PWD/next.md"' in target.read_text() and "`step 199: yyy" in target.read_text()
    assert "`step 0: " not in target.read_text()  # the oldest steps went first

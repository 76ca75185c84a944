"""``baton resume --format native`` for every Codex and Gemini CLI sample run: the tool's own
command, in the folder the session ran in, through the real command line."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_RUNS
from tests.ingest.test_codex_sessions import API_ERROR, cli, load_framework


def _runs(capsys, db_url: str) -> list[dict]:
    codex = load_framework(capsys, db_url, "codex", SAMPLE_RUNS / "codex", SAMPLE_RUNS / "gemini_cli")
    code, out = cli(capsys, "runs", "--db", db_url, "--json")
    gemini = [r for r in json.loads(out) if r["framework"] == "gemini_cli"]
    return [*codex.values(), *gemini]


def expected_command(run: dict) -> str:
    attributes = run["attributes"]
    if run["framework"] == "gemini_cli":
        line = f"gemini --resume {run['native_id']}"
    elif run["native_id"] == API_ERROR:  # the exec session
        line = f"codex exec resume {run['native_id']}"
    else:
        line = f"codex resume {run['native_id']}"
    if "cwd" not in attributes:  # a legacy Gemini chat names only its project's hash
        assert run["framework"] == "gemini_cli" and attributes["layout"] == "json"
        return line
    return f"cd {shlex.quote(attributes['cwd'])} && {line}"


def test_every_sample_run_resumes_natively_in_its_folder(capsys, tmp_path: Path, sqlite_url: str) -> None:
    runs = _runs(capsys, sqlite_url)
    assert len(runs) == 11
    for run in runs:
        code, out = cli(capsys, "show", run["id"], "--db", sqlite_url, "--json")
        checkpoints = json.loads(out)["checkpoints"]
        for checkpoint in (checkpoints[0], checkpoints[-1]):
            code, out = cli(
                capsys,
                "resume",
                checkpoint["id"],
                "--format",
                "native",
                "--out",
                str(tmp_path),
                "--db",
                sqlite_url,
            )
            assert code == 0, run["native_id"]
            assert out.splitlines()[-1] == f"resume: {expected_command(run)}", run["native_id"]
            written = json.loads(next(tmp_path.glob(f"*{run['native_id']}.json")).read_text())
            assert written["session_id"] == run["native_id"] and written["command"] == expected_command(run)


def test_the_exported_document_redacts_secrets(capsys, tmp_path: Path, sqlite_url: str) -> None:
    source = next((SAMPLE_RUNS / "codex").rglob(f"*{API_ERROR}.jsonl"))
    target = tmp_path / "in" / source.name
    target.parent.mkdir()
    target.write_text(
        source.read_text().replace(
            "Summarise the failing CI jobs",
            "Use key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 to summarise the failing CI jobs",
        )
    )
    run = load_framework(capsys, sqlite_url, "codex", target)[API_ERROR]
    code, out = cli(capsys, "show", run["id"], "--db", sqlite_url, "--json")
    checkpoint = json.loads(out)["checkpoints"][0]["id"]
    code, out = cli(capsys, "resume", checkpoint, "--format", "native", "--stdout", "--db", sqlite_url)
    assert code == 0 and "sk-proj-abcdef" not in out and "REDACTED" in json.loads(out)["task"]


@pytest.mark.parametrize("fmt", ["codex", "gemini_cli"])
def test_a_native_format_of_another_framework_says_so(capsys, sqlite_url: str, fmt: str) -> None:
    runs = {r["framework"]: r for r in _runs(capsys, sqlite_url)}
    other = runs["gemini_cli" if fmt == "codex" else "codex"]
    code, out = cli(capsys, "show", other["id"], "--db", sqlite_url, "--json")
    checkpoint = json.loads(out)["checkpoints"][0]["id"]
    code = cli(capsys, "resume", checkpoint, "--format", fmt, "--stdout", "--db", sqlite_url)[0]
    assert code == 2

"""Hostile input against the command line, through the real CLI: secrets used as object keys
in an export, file names and ids that would forge output lines or reorder them (newlines,
bidi controls), and databases that are full, damaged, a folder or not there at all."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from baton.cli import main
from core.resume.acf_document import NOTES_KEY
from tests.conftest import REPO, SAMPLE_RUNS

ACF_SAMPLE = SAMPLE_RUNS / "acf/v0.1.0/exports/ci-triage/02-failed.json"
OPENAI_KEY_A = "sk-proj-" + "A1b2C3d4E5f6G7h8J9k0" * 2
OPENAI_KEY_B = "sk-proj-" + "Z9y8X7w6V5u4T3s2R1q0" * 2
GITHUB_TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"
FORGED = "evil\nfailed: spoofed.json: all good"


def baton(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_baton(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "baton", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def acf_doc(**fields: object) -> dict:
    doc = json.loads(ACF_SAMPLE.read_text())
    doc.update(checkpoint_id=str(uuid.uuid4()), task_id=str(uuid.uuid4()), parent_checkpoint_id=None)
    doc.update(fields)
    return doc


# -- secrets as object keys ------------------------------------------------------------------
def test_secret_keys_are_redacted_in_the_resume_export(capsys, sqlite_url: str, tmp_path: Path) -> None:
    doc = acf_doc(
        partial_output={OPENAI_KEY_A: 1, OPENAI_KEY_B: 2, "nested": {GITHUB_TOKEN: "x"}, "failed_jobs": 17}
    )
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "keys.json").write_text(json.dumps(doc))
    assert baton(capsys, "ingest", str(folder), "--db", sqlite_url)[0] == 0
    out_file = tmp_path / "export.json"
    code, out, err = baton(
        capsys, "resume", doc["checkpoint_id"][:13], "--db", sqlite_url, "--out", str(out_file)
    )
    assert code == 0, err
    written = out_file.read_text()
    for secret in (OPENAI_KEY_A, OPENAI_KEY_B, GITHUB_TOKEN):
        assert secret not in written and secret not in out + err
    exported = json.loads(written)
    partial = exported["partial_output"]
    # Both keys redact to the same marker: two members still, neither value lost.
    assert partial == {
        "[REDACTED:openai-api-key]": 1,
        "[REDACTED:openai-api-key]#2": 2,
        "nested": {"[REDACTED:github-token]": "x"},
        "failed_jobs": 17,
    }
    paths = exported["context_snapshot"][NOTES_KEY]["redaction"]["paths"]
    assert "$.partial_output['[REDACTED:openai-api-key]']" in paths
    assert "$.partial_output['[REDACTED:openai-api-key]#2']" in paths
    assert "$.partial_output.nested['[REDACTED:github-token]']" in paths
    assert "redacted: 3 value(s) at $.partial_output['[REDACTED:openai-api-key]']" in out


# -- lines that cannot be forged -------------------------------------------------------------
def test_a_file_name_with_a_newline_cannot_forge_a_line(capsys, sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / f"{FORGED}.json").write_text('{"ac_version": "0.1.0", ')  # truncated: fails
    code, out, err = baton(capsys, "ingest", str(folder), "--db", sqlite_url)
    assert code == 1
    shown = str(folder / "evil\\nfailed: spoofed.json: all good.json")
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].startswith(f"failed: {shown}:"), err
    assert not any(line.startswith("failed: spoofed.json") for line in (out + err).splitlines())

    code, out, _ = baton(capsys, "errors", "--db", sqlite_url)
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith(f"{shown}:"), out
    # JSON is data: the real name, newline and all, in valid JSON.
    code, out, _ = baton(capsys, "errors", "--db", sqlite_url, "--json")
    assert [f["path"] for f in json.loads(out)] == [str(folder / f"{FORGED}.json")]


def test_bidi_and_newlines_in_ids_are_shown_escaped(capsys, sqlite_url: str, tmp_path: Path) -> None:
    agent = "agent\u202etxt.exe\u2066x\u200b"
    doc = acf_doc(agent_id=agent, task_summary="line one\nfailed: forged", failure_reason="bad\r\u202eok")
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "bidi\u202enosj.json").write_text(json.dumps(doc))
    (folder / "broken\u202e.json").write_text("{")
    baton(capsys, "ingest", str(folder), "--db", sqlite_url)
    run_id = json.loads(baton(capsys, "runs", "--db", sqlite_url, "--json")[1])[0]["id"]
    outputs = {}
    for args in (["runs"], ["show", run_id], ["failures"], ["failures", "--runs"], ["errors"]):
        code, out, err = baton(capsys, *args, "--db", sqlite_url)
        assert code == 0, (args, err)
        outputs[args[0] + "".join(args[2:])] = out
        for char in "\u202e\u2066\u200b\r":
            assert char not in out + err, (args, char)
    assert "agent\\u202etxt.exe\\u2066x\\u200b" in outputs["runs"]
    show = outputs["show"].splitlines()
    assert "  task     line one\\nfailed: forged" in show
    assert not any(line.startswith("failed: forged") for line in show)
    assert "bad\\r\\u202eok" in outputs["show"]
    assert "broken\\u202e.json" in outputs["errors"]
    # --json stays valid JSON and keeps the data; the bidi character is written as the JSON
    # escape \u202e (the same string once decoded), never raw on a terminal.
    code, out, _ = baton(capsys, "runs", "--db", sqlite_url, "--json")
    assert "\u202e" not in out and json.loads(out)[0]["agents"] == [agent]


def test_watch_lines_are_escaped(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / f"{FORGED}\u202e.json").write_text("{")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    watch = subprocess.Popen(
        [sys.executable, "-m", "baton", "watch", str(folder), "--db", sqlite_url, "--poll"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert watch.stdout is not None
        first = watch.stdout.readline()  # the catch-up pass reports the failed file
    finally:
        watch.terminate()
        _, err = watch.communicate(timeout=60)
    assert first.startswith(f"failed {folder}/evil\\nfailed: spoofed.json: all good\\u202e.json:"), first
    assert watch.returncode == 0, err


def test_the_format_characters_are_unicodes_category_cf() -> None:
    from baton.output import escape

    escaped = {chr(c) for c in range(sys.maxunicode + 1) if escape(chr(c)) != chr(c)}
    cf = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}
    assert cf <= escaped, sorted(f"U+{ord(c):04X}" for c in cf - escaped)
    # Beyond Cf: newlines and the line and paragraph separators, and code points this Python's
    # Unicode leaves unassigned that later versions make format characters (U+13439-1343F).
    others = {c for c in escaped - cf if unicodedata.category(c) != "Cn"}
    assert others == {"\n", "\r", "\u2028", "\u2029"}


# -- databases that are not there, not databases, or full ------------------------------------
READ_COMMANDS = [
    ["runs"],
    ["show", "abc"],
    ["costs"],
    ["failures"],
    ["errors"],
    ["exports"],
    ["resume", "abc"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_commands_open_existing_databases_only(capsys, tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "typo" / "deeper" / "baton.db"
    code, out, err = baton(capsys, *command, "--db", f"sqlite:///{typo}")
    assert code == 2 and out == ""
    assert err == f"baton: no database at {typo} (baton ingest creates one)\n"
    assert not (tmp_path / "typo").exists()


def test_ingest_still_creates_its_database(capsys, tmp_path: Path) -> None:
    new = tmp_path / "new" / "baton.db"
    assert baton(capsys, "ingest", str(SAMPLE_RUNS / "acf"), "--db", f"sqlite:///{new}")[0] == 0
    assert new.is_file()


@pytest.mark.parametrize("kind", ["folder", "corrupt"])
@pytest.mark.parametrize("command", [["runs"], ["ingest", str(SAMPLE_RUNS / "acf")]], ids=lambda c: c[0])
def test_a_folder_or_damaged_db_is_one_line_of_ours(tmp_path: Path, kind: str, command: list[str]) -> None:
    target = tmp_path / "baton.db"
    if kind == "folder":
        target.mkdir()
        expected = f"baton: {target} is a folder; the database is a file, such as {target / 'baton.db'}\n"
    else:
        target.write_bytes(b"this is not a SQLite database, just text " * 200)
        expected = f"baton: cannot open database {target}: file is not a database\n"
    done = run_baton(*command, "--db", f"sqlite:///{target}")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", expected)


@pytest.fixture
def acf_folder(tmp_path: Path) -> Path:
    """1,500 distinct ACF checkpoints of about 2 KB each: 3 MB, more than the room below."""
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(1500):
        (folder / f"c{n:04}.json").write_text(json.dumps(acf_doc(task_summary=f"{n} " + "x" * 1500)))
    return folder


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _assert_disk_full_reported(code: int, out: str, err: str) -> None:
    assert code == 1
    assert err == (
        "baton: the database's disk is full (database or disk is full): what was written before is "
        "kept; free some space and run again (the files not written are read again)\n"
    ), err
    assert out == ""


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a 2 MB tmpfs needs root (the max_page_count test covers a full database)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def test_disk_full_during_ingest_is_one_line(small_tmpfs: Path, acf_folder: Path) -> None:
    db = small_tmpfs / "baton.db"
    url = f"sqlite:///{db}"
    assert run_baton("ingest", str(SAMPLE_RUNS / "acf"), "--db", url).returncode == 0
    before = json.loads(run_baton("runs", "--db", url, "--json").stdout)
    done = run_baton("ingest", str(acf_folder), "--db", url)  # with helper processes, as a user runs it
    _assert_disk_full_reported(done.returncode, done.stdout, done.stderr)
    assert _integrity(db) == "ok"
    after = run_baton("runs", "--db", url, "--json")
    assert after.returncode == 0 and {r["id"] for r in before} <= {r["id"] for r in json.loads(after.stdout)}


def test_a_full_database_during_ingest_is_one_line(capsys, tmp_path: Path, acf_folder: Path) -> None:
    """The same through SQLite's page cap (PRAGMA max_page_count), which needs no root."""
    db = tmp_path / "capped.db"
    url = f"sqlite:///{db}"
    assert baton(capsys, "ingest", str(SAMPLE_RUNS / "acf"), "--db", url)[0] == 0
    before = json.loads(baton(capsys, "runs", "--db", url, "--json")[1])
    with sqlite3.connect(db) as connection:
        cap = connection.execute("PRAGMA page_count").fetchone()[0] + 100  # 400 KB more

    def cap_pages(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.execute(f"PRAGMA max_page_count={cap}")

    event.listen(Engine, "connect", cap_pages)
    try:
        code, out, err = baton(capsys, "ingest", str(acf_folder), "--db", url)
    finally:
        event.remove(Engine, "connect", cap_pages)
    _assert_disk_full_reported(code, out, err)
    assert _integrity(db) == "ok"
    code, out, _ = baton(capsys, "runs", "--db", url, "--json")
    assert code == 0 and {r["id"] for r in before} <= {r["id"] for r in json.loads(out)}
    # With room again, the next pass reads what was not written: every file loads.
    code, out, _ = baton(capsys, "ingest", str(acf_folder), "--db", url, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["files_failed"] == 0
    assert summary["files_loaded"] + summary["files_unchanged"] == 1500
    assert len(json.loads(baton(capsys, "runs", "--db", url, "--json")[1])) == len(before) + 1500

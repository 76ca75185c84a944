"""Bad input is normal input: every broken file in sample_runs/broken gets a recorded outcome a
user understands, and nothing already loaded is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import queries
from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths, read_file
from tests.conftest import REPO, SAMPLE_RUNS
from tests.helpers import copy_tree, row_counts

BROKEN = SAMPLE_RUNS / "broken"

EXPECTED = {
    "truncated_checkpoint.json": ("failed", "truncated JSON"),
    "empty.json": ("failed", "empty file"),
    "invalid_utf8.json": ("failed", "not valid UTF-8"),
    "wrong_types.json": ("failed", "checkpoint_id"),
    "bad_middle_line.jsonl": ("loaded", "loaded, 1 bad line"),
    "package.json": ("ignored", "no known agent format"),
    "notes.json": ("ignored", "no known agent format"),
    "not_json.log": ("ignored", "not JSON"),
}


@pytest.fixture
def loaded_then_broken(tmp_path: Path, store: Store) -> tuple[Store, dict[str, int]]:
    ingest_paths([SAMPLE_RUNS / "acf"], store)
    before = row_counts(store.engine)
    ingest_paths([copy_tree(BROKEN, tmp_path / "broken")], store)
    return store, before


def _files(store: Store) -> dict[str, dict]:
    return {Path(f["path"]).name: f for f in queries.source_files(store.engine)}


def test_every_broken_file_has_the_documented_outcome(loaded_then_broken: tuple[Store, dict]) -> None:
    store, _ = loaded_then_broken
    files = _files(store)
    for name, (outcome, message) in EXPECTED.items():
        assert files[name]["outcome"] == outcome, (name, files[name])
        assert message in (files[name]["error"] or ""), (name, files[name]["error"])


def test_line_numbers_point_at_the_broken_line(loaded_then_broken: tuple[Store, dict]) -> None:
    files = _files(loaded_then_broken[0])
    assert files["bad_middle_line.jsonl"]["error_line"] == 2
    assert files["invalid_utf8.json"]["error_line"] is not None


def test_broken_files_never_remove_what_was_loaded(loaded_then_broken: tuple[Store, dict]) -> None:
    store, before = loaded_then_broken
    # Only bad_middle_line.jsonl adds: its two good lines (a run of their own) load around its bad one.
    assert row_counts(store.engine) == before | {
        "run": before["run"] + 1,
        "checkpoint": before["checkpoint"] + 2,
    }


def test_directory_loop_is_walked_once(tmp_path: Path, store: Store) -> None:
    tree = copy_tree(BROKEN, tmp_path / "broken")
    assert (tree / "loop").is_symlink()
    summary = ingest_paths([tree], store)
    names = [Path(f["path"]).name for f in queries.source_files(store.engine)]
    assert len(names) == len(set(names)) == summary.files_seen


def test_too_large_file_says_how_large_and_how_to_raise_the_limit(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"padding": "' + b"x" * 300_000 + b'"}')
    monkeypatch.setenv("BATON_MAX_FILE_MB", "0.1")
    summary = ingest_paths([tmp_path], store)
    assert summary.files_failed == 1
    error = summary.failures[0]["error"]
    assert "too large" in error and "BATON_MAX_FILE_MB" in error


def test_file_vanishing_before_it_is_read_is_recorded(tmp_path: Path) -> None:
    gone = tmp_path / "gone.json"
    gone.write_text("{}")
    os.remove(gone)
    outcome = read_file(gone, None)
    assert outcome is not None and outcome.outcome == "failed"
    assert "cannot read" in (outcome.error or "")


def test_unreadable_sqlite_of_no_known_schema_fails_with_the_reason(tmp_path: Path, store: Store) -> None:
    corrupt = tmp_path / "state.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\x00\x03" + b"\x00" * 4000)  # impossible page size
    summary = ingest_paths([tmp_path], store)
    assert summary.files_failed == 1
    assert "cannot read this SQLite database" in summary.failures[0]["error"]


def test_a_failed_file_is_tried_again_after_its_cause_is_fixed(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(
        (SAMPLE_RUNS / "acf/v0.1.0/edge_cases/non_uuid_task_id.json").read_bytes()[:-2]
        + b" " * 200_000
        + b"}\n"
    )
    monkeypatch.setenv("BATON_MAX_FILE_MB", "0.1")
    assert ingest_paths([tmp_path], store).files_failed == 1
    monkeypatch.setenv("BATON_MAX_FILE_MB", "64")  # what the error message tells the user to do
    summary = ingest_paths([tmp_path], store)
    assert (summary.files_failed, summary.files_loaded) == (0, 1)
    assert queries.failed_files(store.engine) == []


def test_fifo_and_device_named_like_checkpoints_fail_instead_of_hanging(tmp_path: Path, store: Store) -> None:
    """The watcher accepts paths by name: a FIFO would block open() forever and a link to
    /dev/zero would be read forever. Both fail with a reason; the real file next to them loads."""
    import shutil
    import threading

    from ingest.changes import load_changes

    fifo = tmp_path / "stuck.json"
    os.mkfifo(fifo)
    zero = tmp_path / "endless.json"
    zero.symlink_to("/dev/zero")
    good = tmp_path / "good.json"
    shutil.copy(next((SAMPLE_RUNS / "acf").rglob("checkpoints/*/*.json")), good)
    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(load_changes(store, [str(fifo), str(zero), str(good)])), daemon=True
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "reading a FIFO or device blocked the ingester"
    outcomes = {os.path.basename(o.path): o for o in result[0].written}
    for name in ("stuck.json", "endless.json"):
        assert outcomes[name].outcome == "failed"
        assert outcomes[name].error == "cannot read: not a regular file (a FIFO, device or socket)"
    assert outcomes["good.json"].outcome == "loaded"


def _badly_named(folder: Path) -> Path:
    """A checkpoint whose file name is not valid UTF-8 (Linux allows any bytes but / and NUL)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = os.fsdecode(os.path.join(os.fsencode(folder), b"draft-\xff\xfe.json"))
    sample = sorted((SAMPLE_RUNS / "acf" / "v0.1.0").rglob("*.json"))[0]
    Path(name).write_bytes(sample.read_bytes())
    return Path(name)


def test_a_file_name_that_is_not_utf8_fails_alone_with_a_clear_reason(tmp_path: Path, store: Store) -> None:
    tree = copy_tree(SAMPLE_RUNS / "acf", tmp_path / "acf")
    _badly_named(tree / "odd")
    summary = ingest_paths([tree], store)
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = ingest_paths([SAMPLE_RUNS / "acf"], alone)
    assert summary.files_loaded == expected.files_loaded and summary.files_failed == expected.files_failed + 1
    (failure,) = [f for f in summary.failures if "odd" in f["path"]]
    assert failure["path"].endswith("odd/draft-\\xff\\xfe.json") and "not valid UTF-8" in failure["error"]
    assert row_counts(store.engine) == row_counts(alone.engine)
    # The next pass says it again (nothing was stored for the file) and loads nothing new.
    again = ingest_paths([tree], store)
    assert again.files_failed == summary.files_failed and again.files_loaded == 0


def test_the_cli_lists_a_badly_named_file_without_a_traceback(tmp_path: Path) -> None:
    _badly_named(tmp_path / "runs")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "baton",
            "ingest",
            str(tmp_path / "runs"),
            "--db",
            f"sqlite:///{tmp_path / 'b.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 1
    assert "1 files seen: 0 loaded, 0 unchanged, 0 ignored, 1 failed" in done.stdout
    assert "draft-\\xff\\xfe.json: the file name is not valid UTF-8" in done.stderr
    assert "Traceback" not in done.stderr

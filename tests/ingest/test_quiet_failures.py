"""What reaches a user's terminal when things go wrong around an ingest, with real processes:
helpers whose ``baton ingest`` was killed with SIGKILL, a burst of folders under ``baton
watch``, and paths that are not regular files (real FIFOs, real symlinks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import make_engine
from core.tables import Checkpoint, SourceFile
from tests.conftest import REPO

TREE_FILES = 12000  # the pass must outlast a spawned helper's start (about a second) with room to spare


def _acf(task: int) -> dict:
    return {
        "ac_version": "0.1.0",
        "checkpoint_id": str(uuid.uuid4()),
        "task_id": f"{task:08x}-aaaa-4bbb-8ccc-dddddddddddd",
        "agent_id": "writer-01",
        "emitted_at": "2026-11-22T10:00:00+00:00",
        "status": "partial",
        "task_summary": "Draft the launch post " + "x" * 2000,
        "completed_steps": ["outline"],
        "remaining_steps": ["draft"],
    }


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough files (about 26 MB) that helpers are forked and busy for well over a second."""
    tree = tmp_path_factory.mktemp("big") / "tree"
    for n in range(TREE_FILES):
        folder = tree / f"task-{n // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n:05d}.json").write_text(json.dumps(_acf(n // 100)))
    return tree


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found |= {int(child) for child in handle.read().split()}
        except OSError:
            continue
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's new parent may be slow to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _baton(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args],
        cwd=REPO,
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- helpers of a killed ingest ----------------------------------------------------------------
@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("fork", "busy_after_s"),
    [("1", 0.05), ("0", 1.2)],  # forked helpers start at once; spawned ones import for about a second
    ids=["forked", "spawned"],
)
def test_helpers_of_a_killed_ingest_end_quietly_and_nothing_is_lost(
    big_tree: Path, tmp_path: Path, fork: str, busy_after_s: float
) -> None:
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    stderr_path = tmp_path / "stderr.txt"
    env = os.environ | {"BATON_INGEST_WORKERS": "3", "BATON_INGEST_FORK": fork}
    with stderr_path.open("w") as stderr:  # the helpers inherit it: what a terminal would show
        process = subprocess.Popen(
            [sys.executable, "-m", "baton", "ingest", str(big_tree), "--db", url],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    helpers: set[int] = set()
    first_seen = None
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        helpers |= _children(process.pid)
        if helpers and first_seen is None:
            first_seen = time.monotonic()
        if first_seen is not None and time.monotonic() - first_seen >= busy_after_s:
            break
        time.sleep(0.002)
    helpers |= _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the ingest ended before it was killed"
    assert helpers, "no helper process was started"
    killed_at = time.monotonic()
    while any(_running(pid) for pid in helpers) and time.monotonic() - killed_at < 10:
        time.sleep(0.01)
    assert not any(_running(pid) for pid in helpers), "a helper outlived its ingest by 10 s"
    printed = stderr_path.read_text()
    for sign in ("Traceback", "Exception ignored", "BrokenPipeError"):
        assert sign not in printed, printed
    # Killed mid-pass: some files are written, each whole; the next ingest loads the rest.
    engine = make_engine(url)
    with engine.connect() as connection:
        loaded = set(
            connection.execute(select(SourceFile.id).where(SourceFile.outcome == "loaded")).scalars()
        )
        holding = set(connection.execute(select(Checkpoint.source_file_id)).scalars())
    # Whole files only, however far the pass got (its helpers may finish the last chunks after the
    # kill: the parent's death is what they must survive quietly, checked above).
    assert loaded == holding
    again = _baton("ingest", str(big_tree), "--db", url, "--json", env={"BATON_INGEST_WORKERS": "3"})
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["files_failed"] == 0
    assert summary["files_loaded"] + summary["files_unchanged"] == TREE_FILES
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Checkpoint)).scalar_one() == TREE_FILES
    engine.dispose()


def _wait_for(predicate: object, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > end:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.02)


def _loaded(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(SourceFile).where(SourceFile.outcome == "loaded")
            ).scalar_one()
    finally:
        engine.dispose()


# -- a burst under baton watch ---------------------------------------------------------------
@pytest.mark.timeout(120)
def test_a_burst_of_new_folders_prints_no_watchdog_warning(tmp_path: Path) -> None:
    """Folders created in a folder watchdog has only just seen appear: it watches them as
    it lists the new folder and again as their own creations arrive, and warns each time
    (tens of KB a warning, several MB a burst) unless we keep that warning quiet."""
    watched = tmp_path / "watched"
    watched.mkdir()
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "baton", "watch", str(watched), "--db", url, "--quiet"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    trees, agents = 40, 50
    try:
        _wait_for(lambda: "(inotify)" in stderr_path.read_text())
        for n in range(trees):
            run = watched / f"run-{n:03d}"
            run.mkdir()
            for agent in range(agents):
                (run / f"agent-{agent:02d}").mkdir()
            for agent in range(agents):
                (run / f"agent-{agent:02d}" / "checkpoint.json").write_text(json.dumps(_acf(n)))
        _wait_for(lambda: _loaded(url) == trees * agents, timeout=60)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = stderr_path.read_text()
    assert process.returncode == 0, printed[:2000]
    assert "already exists" not in printed and "Warning" not in printed, printed[:2000]
    # Nothing but our own two lines (under load a file read mid-write may count as failed
    # before its close loads it: the count is not what this test is about).
    first, last = printed.splitlines()
    assert first == f"watching {watched} (inotify)"
    assert last.startswith(f"stopped: {trees * agents} loaded, ")


# -- paths that hold nothing to read -----------------------------------------------------------
def _records(url: str) -> dict[str, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(select(SourceFile.path, SourceFile.outcome)).all())
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_a_fifo_or_a_link_to_dev_zero_named_directly_is_skipped_with_a_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    fifo = tmp_path / "stuck.json"
    os.mkfifo(fifo)
    zero = tmp_path / "endless.json"
    zero.symlink_to("/dev/zero")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_acf(1)))
    for named, why in (
        (fifo, f"{fifo}: not a regular file (a FIFO)"),
        (zero, "/dev/zero: not a regular file"),
    ):
        done = _baton("ingest", str(named), "--db", url, timeout=60)  # never blocks, never reads forever
        assert done.returncode == 1, done  # nothing that was named can be read
        assert done.stdout.startswith("1 files seen: 0 loaded, 0 unchanged, 0 ignored, 0 failed, 1 skipped\n")
        assert f"skipped: {why}" in done.stderr and "Traceback" not in done.stderr
    # Beside a file that loads, a skipped path is said and counted, and nothing failed.
    done = _baton("ingest", str(fifo), str(good), "--db", url, "--json", timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["files_seen"], summary["files_loaded"], summary["files_skipped"]) == (2, 1, 1)
    assert done.stderr == f"skipped: {fifo}: not a regular file (a FIFO)\n"
    assert _records(url) == {str(good): "loaded"}  # a skipped path is never recorded


def _hostile_folder(folder: Path) -> dict[str, str]:
    """Beside a checkpoint: what holds nothing to read, under candidate names; the line each gets."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "pipe.jsonl")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "dangling.json").symlink_to("gone-checkpoint.json")
    (folder / "loop.json").symlink_to("loop.json")
    os.mkfifo(folder / "fifo-not-ours")  # no candidate name: not ours to mention
    return {
        "pipe.jsonl": "not a regular file (a FIFO)",
        "zero.json": "not a regular file (a character device, symlink -> /dev/zero)",
        "dangling.json": "dangling symlink -> gone-checkpoint.json",
        "loop.json": "symlink loop -> loop.json",
    }


@pytest.mark.timeout(120)
def test_the_walk_skips_what_holds_nothing_to_read_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    folder = tmp_path / "agents"
    expected = _hostile_folder(folder)
    (folder / "good.json").write_text(json.dumps(_acf(2)))
    done = _baton("ingest", str(folder), "--db", url, timeout=60)
    assert done.returncode == 0, done.stderr  # nothing failed to load
    assert done.stdout.startswith("5 files seen: 1 loaded, 0 unchanged, 0 ignored, 0 failed, 4 skipped\n")
    lines = sorted(done.stderr.splitlines())
    assert lines == sorted(f"skipped: {folder / name}: {why}" for name, why in expected.items())
    assert _records(url) == {str(folder / "good.json"): "loaded"}
    errors = _baton("errors", "--db", url)
    assert errors.returncode == 0 and "dangling" not in errors.stdout and "FIFO" not in errors.stdout


@pytest.mark.timeout(120)
def test_a_loaded_file_that_became_a_dangling_symlink_is_deleted_by_the_walk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    folder = tmp_path / "agents"
    folder.mkdir()
    checkpoint = folder / "latest.json"
    checkpoint.write_text(json.dumps(_acf(3)))
    assert _baton("ingest", str(folder), "--db", url).returncode == 0
    checkpoint.unlink()
    checkpoint.symlink_to("run-3.json")  # a link left to a checkpoint deleted on success
    done = _baton("ingest", str(folder), "--db", url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"skipped: {checkpoint}: dangling symlink -> run-3.json\n"
    assert _records(url) == {str(checkpoint): "deleted"}  # records kept, as for any file gone
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Checkpoint)).scalar_one() == 1
    engine.dispose()


@pytest.mark.timeout(120)
def test_the_watcher_skips_by_the_same_rule_once_each(tmp_path: Path) -> None:
    """What the walk skips, the watcher skips too: in its catch-up and live, said once per
    path, never recorded as failed; a loaded file that becomes a dangling link is deleted."""
    from core.store import Store
    from ingest.watcher import Watcher

    url = f"sqlite:///{tmp_path / 'baton.db'}"
    before, live = tmp_path / "watched" / "before", tmp_path / "watched" / "live"
    expected = {before / name: why for name, why in _hostile_folder(before).items()}
    loaded = tmp_path / "watched" / "latest.json"
    loaded.write_text(json.dumps(_acf(4)))
    store = Store(make_engine(url))
    watcher = Watcher([tmp_path / "watched"], store).start()
    try:
        assert watcher.wait_caught_up(30)
        expected |= {live / name: why for name, why in _hostile_folder(live).items()}
        (live / "good.json").write_text(json.dumps(_acf(5)))
        loaded.unlink()
        loaded.symlink_to("run-4.json")
        expected[loaded] = "dangling symlink -> run-4.json"
        for path in (live / "pipe.jsonl", live / "zero.json"):
            os.utime(path, follow_symlinks=False)  # a second event for the same path: said once
        _wait_for(
            lambda: len([w for w in watcher.state().warnings if w.startswith("skipped: ")]) >= len(expected)
        )
        _wait_for(lambda: _records(url).get(str(live / "good.json")) == "loaded")
        _wait_for(lambda: _records(url).get(str(loaded)) == "deleted")
        time.sleep(0.5)  # any later event of the same paths has been handled
        state = watcher.state()
    finally:
        watcher.stop()
        store.engine.dispose()
    skipped = sorted(w for w in state.warnings if w.startswith("skipped: "))
    assert skipped == sorted(f"skipped: {path}: {why}" for path, why in expected.items())
    assert state.files_failed == 0 and state.last_error is None
    assert _records(url) == {str(live / "good.json"): "loaded", str(loaded): "deleted"}

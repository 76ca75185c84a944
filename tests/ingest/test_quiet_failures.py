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

TREE_FILES = 6000


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
    """Enough files (about 13 MB) that helpers are forked and busy for most of a second."""
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
    assert loaded == holding and len(loaded) < TREE_FILES
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
    assert printed.splitlines() == [
        f"watching {watched} (inotify)",
        f"stopped: {trees * agents} loaded, 0 failed, 0 deleted",
    ]

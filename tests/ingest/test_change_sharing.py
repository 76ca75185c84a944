"""A watcher's large batch of changed paths shared with helper processes (``HelperPool``)
must load exactly what one process loads, keep the watcher's rules for files that vanished,
and leave no helper behind once the watcher stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import make_engine
from core.store import Store
from core.tables import Checkpoint, Run, SourceFile
from ingest.batch import GONE
from ingest.changes import FANOUT_MIN_CHANGES, load_changes
from ingest.fanout import HelperPool
from ingest.watcher import Watcher


def _children() -> set[int]:
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as handle:
                pids |= {int(pid) for pid in handle.read().split()}
        except FileNotFoundError:
            continue
    return pids


def _tree(root: Path, count: int, folders: int = 8) -> list[str]:
    paths = []
    for n in range(count):
        folder = root / f"task-{n % folders}"
        folder.mkdir(parents=True, exist_ok=True)
        doc = {
            "ac_version": "0.1.0",
            "checkpoint_id": f"{n:08x}-1f2e-4d3c-8b4a-{n:012x}",
            "task_id": f"{n % folders:08x}-aaaa-4bbb-8ccc-dddddddddddd",
            "agent_id": "writer-01",
            "emitted_at": f"2026-11-22T10:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
            "status": "failed" if n % 50 == 0 else "partial",
            "task_summary": "Draft the launch post",
            "completed_steps": ["outline"],
            "remaining_steps": ["draft", "edit"],
        }
        path = folder / f"{n:05d}.json"
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    broken = root / "task-0" / "broken.json"
    broken.write_text('{"ac_version": "0.1.0", "checkpoint_id": ')
    return paths + [str(broken)]


def _state(store: Store) -> dict:
    with store.engine.connect() as connection:
        files = {
            row.path: (row.outcome, row.error)
            for row in connection.execute(select(SourceFile.path, SourceFile.outcome, SourceFile.error))
        }
        runs = {row.id: (row.status, row.checkpoint_count) for row in connection.execute(select(Run))}
        checkpoints = dict(connection.execute(select(Checkpoint.id, Checkpoint.parent_id)).all())
    return {"files": files, "runs": runs, "checkpoints": checkpoints}


def test_a_shared_batch_loads_what_one_process_loads_and_keeps_the_vanished_rule(tmp_path: Path) -> None:
    results = {}
    for name, pool_size in (("alone", 0), ("shared", 1)):
        paths = _tree(tmp_path / "tree", 3 * FANOUT_MIN_CHANGES)  # the same paths each time
        store = Store(make_engine(f"sqlite:///{tmp_path / f'{name}.db'}"))
        with HelperPool(store, pool_size) as pool:
            first = load_changes(store, paths, pool=pool)
            assert len(first.written) == len(paths) and not first.retry
            helpers_after_first = _children()
            # Ten files are deleted, then named in the next (large) batch with ten changed ones.
            gone, changed = paths[:10], paths[10:20]
            for path in gone:
                os.rename(path, path + ".bak")
            for path in changed:
                Path(path).write_text(Path(path).read_text().replace('"partial"', '"completed"'))
            second = load_changes(store, paths, pool=pool)
            if pool_size:
                assert helpers_after_first and _children() == helpers_after_first, "the helper was not kept"
        shutil.rmtree(tmp_path / "tree")
        outcomes = sorted((o.path, o.outcome) for o in second.written)
        # A failed file is read again each time (the cause may have been a limit, not the file).
        expected = [(p, "deleted") for p in gone] + [(p, "loaded") for p in changed] + [(paths[-1], "failed")]
        assert outcomes == sorted(expected)
        results[name] = _state(store)
        assert results[name]["files"][gone[0]] == ("deleted", GONE)
        assert results[name]["files"][paths[-1]][0] == "failed"
    assert results["shared"] == results["alone"]
    assert not _children()


def test_a_helper_killed_between_batches_is_replaced_and_nothing_is_lost(tmp_path: Path) -> None:
    paths = _tree(tmp_path / "tree", 2 * FANOUT_MIN_CHANGES)
    half = len(paths) // 2
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    with HelperPool(store, 1) as pool:
        load_changes(store, paths[:half], pool=pool)
        (helper,) = _children()
        os.kill(helper, signal.SIGKILL)
        time.sleep(0.1)
        second = load_changes(store, paths[half:], pool=pool)  # the dead helper's share is done here
        assert len(second.written) == len(paths) - half
        third = load_changes(store, paths[:half], pool=pool)  # unchanged: nothing written
        assert third.written == [] and len(_children() - {helper}) == 1
    assert sum(1 for outcome, _ in _state(store)["files"].values() if outcome == "loaded") == len(paths) - 1


@pytest.mark.timeout(120)
def test_a_watcher_shares_a_burst_and_ends_its_helpers_when_stopped(tmp_path: Path) -> None:
    watched, staging = tmp_path / "watched", tmp_path / "staging"
    watched.mkdir()
    paths = _tree(staging, 2000)
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    before = _children()
    watcher = Watcher([watched], store).start()
    try:
        assert watcher.wait_caught_up(10)
        shutil.move(str(staging), str(watched / "burst"))
        deadline = time.monotonic() + 60
        helpers: set[int] = set()
        while time.monotonic() < deadline:
            helpers |= _children() - before
            with store.engine.connect() as connection:
                loaded = connection.execute(select(SourceFile.id).where(SourceFile.outcome == "loaded")).all()
            if len(loaded) == len(paths) - 1:
                break
            time.sleep(0.02)
        assert len(loaded) == len(paths) - 1
        assert helpers, "the burst was loaded without a helper process"
    finally:
        watcher.stop()
    assert not (_children() - before), "a helper outlived the watcher"


@pytest.mark.timeout(120)
def test_a_watcher_ends_helpers_left_idle_and_starts_new_ones_for_the_next_burst(tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    before = _children()
    watcher = Watcher([watched], store)
    watcher.helpers_idle_s = 1.0
    watcher.start()
    try:
        assert watcher.wait_caught_up(10)
        for burst in ("first", "second"):
            paths = _tree(tmp_path / burst, 2 * FANOUT_MIN_CHANGES)
            helpers = _load_burst(store, tmp_path / burst, watched / burst, len(paths) - 1, before)
            assert helpers, f"the {burst} burst was loaded without a helper process"
            deadline = time.monotonic() + 15
            while _children() - before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not (_children() - before), "an idle helper was kept"
    finally:
        watcher.stop()


def _load_burst(store: Store, staging: Path, target: Path, files: int, before: set[int]) -> set[int]:
    """Move ``staging`` in as ``target``; wait until ``files`` more files are loaded; return
    the helper processes seen meanwhile."""
    with store.engine.connect() as connection:
        start = len(connection.execute(select(SourceFile.id).where(SourceFile.outcome == "loaded")).all())
    shutil.move(str(staging), str(target))
    deadline = time.monotonic() + 60
    helpers: set[int] = set()
    loaded = start
    while loaded < start + files and time.monotonic() < deadline:
        helpers |= _children() - before
        with store.engine.connect() as connection:
            loaded = len(
                connection.execute(select(SourceFile.id).where(SourceFile.outcome == "loaded")).all()
            )
        time.sleep(0.02)
    assert loaded == start + files
    return helpers

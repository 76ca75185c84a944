"""A cold ingest fanned out to helper processes must give exactly what one process gives:
the same summary, files, runs and chains, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from core.db import make_engine
from core.store import Store
from core.tables import Checkpoint, Event, Run, SourceFile
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS


def _state(store: Store) -> dict:
    with store.engine.connect() as connection:
        runs = {row.id: dict(row._mapping) for row in connection.execute(select(Run))}
        files = {
            row.path: (row.outcome, row.format, row.error, row.error_line, row.content_hash)
            for row in connection.execute(select(SourceFile))
        }
        parents = dict(connection.execute(select(Checkpoint.id, Checkpoint.parent_id)).all())
        events = connection.execute(select(Event.id)).scalars().all()
    for run in runs.values():
        run.pop("updated_at")
        run["reported_cost_usd"] = round(run["reported_cost_usd"] or 0, 9)
    return {"runs": runs, "files": files, "parents": parents, "events": sorted(events)}


def _ingest(store: Store, workers: int, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> dict:
    monkeypatch.setenv("BATON_INGEST_WORKERS", str(workers))
    summary = ingest_paths([SAMPLE_RUNS], store, **kwargs)  # type: ignore[arg-type]
    result = summary.as_dict()
    result.pop("seconds")
    result["failures"] = sorted((f["path"], f["error"]) for f in summary.failures)
    result["warnings"] = sorted((w["path"], w["line"] or 0, w["error"]) for w in summary.warnings)
    return result


def test_three_processes_load_exactly_what_one_loads(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_store: Callable[[str], Store]
) -> None:
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = _ingest(alone, 1, monkeypatch)
    fanned = new_store(db_url)
    seen_outcomes: list[str] = []
    progress: list[tuple[int, int]] = []
    summary = _ingest(
        fanned,
        3,
        monkeypatch,
        on_outcome=lambda outcome: seen_outcomes.append(outcome.path),
        progress=lambda done, total, _path: progress.append((done, total)),
    )
    assert summary == expected
    assert expected["files_failed"] >= 3 and expected["files_loaded"] > 150
    assert expected["warnings"]  # the helpers' warnings reach the summary too
    assert _state(fanned) == _state(alone)
    # Every written file is reported once, and progress ends at the total.
    assert sorted(seen_outcomes) == sorted(_state(alone)["files"])
    assert progress[-1] == (expected["files_seen"], expected["files_seen"])
    assert not [t for t in threading.enumerate() if t.name.startswith("baton-ingest")]
    # What the helpers recorded lets the next pass skip every file (failed ones are retried).
    again = _ingest(fanned, 3, monkeypatch)
    assert again["files_loaded"] == 0
    assert again["files_unchanged"] == expected["files_seen"] - expected["files_failed"]


def test_cancelled_fanned_out_pass_leaves_whole_files_and_no_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))

    class Stop(Exception):
        pass

    def progress(done: int, _total: int, _path: str) -> None:
        if done >= 60:
            raise Stop

    with pytest.raises(Stop):
        _ingest(store, 3, monkeypatch, progress=progress)
    assert not [t for t in threading.enumerate() if t.name.startswith("baton-ingest")]
    with store.engine.connect() as connection:
        loaded = (
            connection.execute(
                select(SourceFile.id).where(
                    SourceFile.outcome == "loaded", SourceFile.format == "acf.checkpoint"
                )
            )
            .scalars()
            .all()
        )
        with_checkpoints = set(connection.execute(select(Checkpoint.source_file_id)).scalars())
    assert loaded and set(loaded) <= with_checkpoints
    # The next pass completes the job.
    finished = _ingest(store, 3, monkeypatch)
    assert finished["files_failed"] >= 3
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    _ingest(alone, 1, monkeypatch)
    assert _state(store)["runs"] == _state(alone)["runs"]


@pytest.mark.parametrize("python", ["/bin/false", "/nonexistent/python"])
def test_helpers_that_die_or_never_start_leave_their_chunks_to_the_caller(
    python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = _ingest(alone, 1, monkeypatch)
    monkeypatch.setattr(sys, "executable", python)  # helpers exit at once, or cannot be started
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    assert _ingest(store, 3, monkeypatch) == expected
    assert _state(store) == _state(alone)
    assert not [t for t in threading.enumerate() if t.name.startswith("baton-ingest")]


def _probe(url: str, mode: str, **env: str) -> dict:
    """``tests/ingest/fanout_probe.py`` in a fresh process (one with no other thread)."""
    environment = os.environ | {"BATON_INGEST_WORKERS": "3"} | env
    done = subprocess.run(
        [sys.executable, "-m", "tests.ingest.fanout_probe", url, mode],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


@pytest.mark.parametrize(
    ("mode", "env", "helper_kind"),
    [
        ("plain", {}, "fork"),  # baton ingest: a process with no other thread
        ("with-thread", {}, "spawn"),  # the dashboard, the watcher: never forked
        ("plain", {"BATON_INGEST_FORK": "0"}, "spawn"),
    ],
)
def test_helpers_are_forked_only_from_a_process_without_other_threads(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    env: dict[str, str],
    helper_kind: str,
    new_store: Callable[[str], Store],
) -> None:
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = _ingest(alone, 1, monkeypatch)
    probe = _probe(db_url, mode, **env)
    assert probe["helpers"], "no helper process ran"
    kinds = {"fork" if helper == "fork" else "spawn" for helper in probe["helpers"]}
    assert kinds == {helper_kind}
    if helper_kind == "spawn":
        assert all("-m ingest.worker" in helper for helper in probe["helpers"])
    result = probe["summary"] | {
        "failures": [tuple(f) for f in probe["failures"]],
        "warnings": [tuple(w) for w in probe["warnings"]],
    }
    assert result == expected
    assert _state(new_store(db_url)) == _state(alone)
    assert probe["children_after"] == [] and probe["threads_after"] == []


def test_a_forked_helper_killed_mid_pass_leaves_its_chunk_to_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = _ingest(alone, 1, monkeypatch)
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    probe = _probe(url, "kill-helper")
    assert probe["killed"] and set(probe["helpers"]) == {"fork"}
    assert (
        probe["summary"]
        | {
            "failures": [tuple(f) for f in probe["failures"]],
            "warnings": [tuple(w) for w in probe["warnings"]],
        }
        == expected
    )
    assert _state(Store(make_engine(url))) == _state(alone)
    assert probe["children_after"] == []


def test_the_parsers_are_imported_before_helpers_are_forked(sqlite_url: str) -> None:
    """Forked helpers inherit the parsers instead of each importing them at its first chunk."""
    script = (
        "import sys\n"
        "from core.db import make_engine\n"
        "from core.store import Store\n"
        "from ingest.fanout import HelperPool\n"
        "before = 'ingest.parsers' in sys.modules\n"
        f"pool = HelperPool(Store(make_engine({sqlite_url!r})), 1).fork()\n"
        "print(before, 'ingest.parsers' in sys.modules)\n"
        "pool.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_chunks_cut_between_folders_and_stay_within_twice_the_size() -> None:
    import random

    from ingest.fanout import chunks_by_folder

    rng = random.Random(7)
    paths = [
        f"/runs/{folder:03d}/{n:04d}.json" for folder in range(60) for n in range(rng.choice((1, 3, 40, 90)))
    ]
    items = [(path, None) for path in paths]
    for size in (1, 7, 50, 500):
        chunks = chunks_by_folder(items, size)
        assert [item for chunk in chunks for item in chunk] == items
        for chunk, following in zip(chunks, chunks[1:], strict=False):
            assert size <= len(chunk) <= 2 * size
            same_folder = chunk[-1][0].rsplit("/", 1)[0] == following[0][0].rsplit("/", 1)[0]
            assert not same_folder or len(chunk) == 2 * size  # a folder is split only when too large
            # ...and never later than needed: the chunk ends where its folder ends past `size`
            folders = [path.rsplit("/", 1)[0] for path, _ in chunk[size - 1 :]]
            assert len(chunk) == 2 * size or len(set(folders)) == 1
    assert chunks_by_folder([], 5) == [] and chunks_by_folder(paths[:3], 5) == [paths[:3]]


def test_helpers_forked_during_the_walk_load_exactly_what_one_process_loads(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a progress bar, helpers are forked as soon as the walk has found enough
    files to read, each with a first chunk; the pass gives what one process gives."""
    import ingest.fanout as fanout

    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = _ingest(alone, 1, monkeypatch)
    handed: list[int] = []
    real = fanout.early_chunks

    def early_chunks(items: list, helpers: int) -> list:
        chunks = real(items, helpers)
        handed.extend(len(chunk) for chunk in chunks)
        return chunks

    monkeypatch.setattr(fanout, "early_chunks", early_chunks)
    monkeypatch.setattr(fanout, "FANOUT_MIN_FILES", 60)
    fanned = Store(make_engine(db_url))
    seen_outcomes: list[str] = []
    summary = _ingest(fanned, 3, monkeypatch, on_outcome=lambda outcome: seen_outcomes.append(outcome.path))
    assert len(handed) == 2 and all(handed), "both helpers started on a chunk during the walk"
    assert summary == expected
    assert _state(fanned) == _state(alone)
    assert sorted(seen_outcomes) == sorted(_state(alone)["files"])
    assert not [t for t in threading.enumerate() if t.name.startswith("baton-ingest")]
    fanned.engine.dispose()
    alone.engine.dispose()


def test_a_pass_stopped_after_its_helpers_were_forked_leaves_no_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk finds enough files to fork the helpers with a first chunk each, then the
    pass stops (here: its progress callback raises at a file it already knows): the
    helpers finish their chunk, are waited for, and every file they wrote is whole."""
    import json
    import time
    import uuid

    import ingest.fanout as fanout

    monkeypatch.setattr(fanout, "FANOUT_MIN_FILES", 60)
    monkeypatch.setenv("BATON_INGEST_WORKERS", "3")
    template = json.loads(next((SAMPLE_RUNS / "acf" / "v0.1.0").rglob("*.json")).read_text())
    for folder, count in (("a", 40), ("b", 40), ("c", 40), ("z", 1)):
        (tmp_path / folder).mkdir()
        for _ in range(count):
            doc = dict(template, checkpoint_id=str(uuid.uuid4()), task_id=str(uuid.uuid4()))
            doc.pop("parent_checkpoint_id", None)
            (tmp_path / folder / f"{doc['checkpoint_id']}.json").write_text(json.dumps(doc))
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    ingest_paths([tmp_path / "z"], store)  # known and unchanged: the plan reports it

    class Stop(Exception):
        pass

    def progress(_done: int, _total: int, path: str) -> None:
        if "/z/" in path:
            raise Stop

    started = time.monotonic()
    with pytest.raises(Stop):
        ingest_paths([tmp_path], store, progress=progress)
    assert time.monotonic() - started < 10  # the helpers were not left to a 30 s timeout
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every helper was waited for
    with store.engine.connect() as connection:
        loaded = set(
            connection.execute(select(SourceFile.id).where(SourceFile.outcome == "loaded")).scalars()
        )
        with_checkpoints = set(connection.execute(select(Checkpoint.source_file_id)).scalars())
    assert len(loaded) > 1 and loaded == with_checkpoints  # the helpers' chunks were written whole
    finished = ingest_paths([tmp_path], store)
    assert finished.files_failed == 0 and finished.files_loaded + finished.files_unchanged == 121
    store.engine.dispose()


def test_chunks_by_size_keep_order_and_stay_near_their_size() -> None:
    import random

    from ingest.fanout import chunks_by_size

    rng = random.Random(11)
    items = [
        (f"/p/{folder:02d}/{n:03d}.jsonl", None) for folder in range(12) for n in range(rng.choice((1, 2, 9)))
    ]
    sizes = [rng.choice((10, 1_000, 20_000, 300_000)) for _ in items]
    for target in (1, 5_000, 100_000, 10**9):
        chunks = chunks_by_size(items, sizes, target)
        assert [item for chunk in chunks for item in chunk] == items
        start = 0
        for chunk in chunks:
            weight = sum(sizes[start : start + len(chunk)])
            # a chunk is one file, or stays within twice its size (extended to its folder's end)
            assert len(chunk) == 1 or weight <= 2 * target
            end = start + len(chunk)
            if end < len(items) and weight + sizes[end] <= target:
                raise AssertionError("a chunk ended before its size was reached")
            start = end
    assert chunks_by_size([], [], 10) == []


def test_a_few_big_files_are_shared_with_helpers_by_size(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coding agents leave a few big session files, not thousands of small ones: from
    FANOUT_MIN_BYTES on they are shared with helpers (cut into chunks by size), and the pass
    loads exactly what one process loads."""
    import ingest.fanout as fanout

    projects = SAMPLE_RUNS / "claude_code" / "projects"
    monkeypatch.setenv("BATON_INGEST_WORKERS", "1")
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    expected = ingest_paths([projects], alone)
    monkeypatch.delenv("BATON_INGEST_WORKERS")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    total = sum(path.stat().st_size for path in projects.rglob("*.jsonl"))
    monkeypatch.setattr(fanout, "FANOUT_MIN_BYTES", total // 2)
    cut: list[int] = []
    real = fanout.chunks_by_size

    def chunks_by_size(items: list, sizes: list, target: int) -> list:
        chunks = real(items, sizes, target)
        cut.append(len(chunks))
        return chunks

    monkeypatch.setattr(fanout, "chunks_by_size", chunks_by_size)
    shared = Store(make_engine(sqlite_url))
    summary = ingest_paths([projects], shared)
    assert cut and cut[0] >= 4, "the files were cut into chunks by size for two processes"
    assert summary.files_loaded == expected.files_loaded == len(list(projects.rglob("*.jsonl")))
    assert _state(shared) == _state(alone)
    assert not [t for t in threading.enumerate() if t.name.startswith("baton-ingest")]
    shared.engine.dispose()
    alone.engine.dispose()

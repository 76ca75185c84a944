"""The live watcher on real folders: a real observer (inotify, or polling), a real database,
real ACF and loopengt files. Every wait polls the database against a deadline."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from watchdog.observers.inotify import InotifyObserver

from core import queries
from core.db import make_engine
from core.store import FileOutcome, Store
from core.tables import Checkpoint, Event, SourceFile
from ingest import watcher as watcher_module
from ingest.watcher import Watcher, default_watch_paths, start_background
from tests.conftest import REPO, SAMPLE_RUNS

ACF_SAMPLE = SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints"
LOOPENGT = SAMPLE_RUNS / "loopengt" / "v0.1.0" / ".loopengt"
TRACE = LOOPENGT / "runs" / "444a995107c3.trace.jsonl"
TASK = "7d0c6f2e-1b7a-4c53-9a43-3f1f0f0e9a11"
DEADLINE = 10.0


def wait_for(predicate: Callable[[], object], timeout: float = DEADLINE) -> object:
    """Poll until ``predicate()`` is truthy; fail with what it last returned."""
    end = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() > end:
            pytest.fail(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(0.01)
        value = predicate()
    return value


def acf_doc(n: int, status: str = "partial", task: str = TASK, pad: str = "") -> dict:
    """A real-shaped ACF 0.1.0 checkpoint document (as ``emit_json`` writes it)."""
    return {
        "ac_version": "0.1.0",
        "checkpoint_id": f"{n:08x}-1f2e-4d3c-8b4a-{n:012x}",
        "task_id": task,
        "agent_id": "writer-01",
        "emitted_at": f"2026-11-22T10:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
        "status": status,
        "task_summary": "Draft the launch post" + pad,
        "completed_steps": ["outline"],
        "remaining_steps": ["draft", "edit"],
    }


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))


class Harness:
    """A watcher on ``folder`` with every outcome it reported."""

    def __init__(self, folder: Path, db_url: str, **options: object) -> None:
        self.folder = folder
        self.store = Store(make_engine(db_url))
        self.outcomes: list[FileOutcome] = []
        self.watcher = Watcher([folder], self.store, on_outcome=self.outcomes.append, **options)  # type: ignore[arg-type]

    def start(self) -> Harness:
        self.watcher.start()
        assert self.watcher.wait_caught_up(DEADLINE)
        return self

    def stop(self) -> None:
        self.watcher.stop()
        self.store.engine.dispose()

    def file(self, path: Path) -> SourceFile | None:
        with self.store.engine.connect() as connection:
            return connection.execute(select(SourceFile).where(SourceFile.path == str(path))).first()

    def outcome_of(self, path: Path) -> str | None:
        row = self.file(path)
        return row.outcome if row else None

    def checkpoint_status(self, native_id: str) -> str | None:
        with self.store.engine.connect() as connection:
            return connection.execute(
                select(Checkpoint.status).where(Checkpoint.native_id == native_id)
            ).scalar()

    def count(self, table: type, *where: object) -> int:
        with self.store.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    def reported(self, path: Path, at_least: int = 1) -> list[FileOutcome]:
        """The outcomes reported for ``path``, once there are ``at_least`` of them (a report
        follows its commit, so it may trail what the database already shows)."""

        def found() -> list[FileOutcome] | None:
            mine = [o for o in list(self.outcomes) if o.path == str(path)]
            return mine if len(mine) >= at_least else None

        return wait_for(found)  # type: ignore[return-value]


@pytest.fixture
def watched(tmp_path: Path) -> Path:
    folder = tmp_path / "watched"
    folder.mkdir()
    return folder


@pytest.fixture
def harness(watched: Path, db_url: str) -> Iterator[Harness]:
    h = Harness(watched, db_url).start()
    yield h
    h.stop()


# -- event shapes ------------------------------------------------------------------------------
def test_in_place_write_is_loaded_when_the_writer_closes_not_before(harness: Harness, watched: Path) -> None:
    path = watched / "run" / "cp.json"
    path.parent.mkdir()
    data = json.dumps(acf_doc(1), indent=2).encode()
    with open(path, "wb") as handle:  # created, written in two halves with a pause, closed
        handle.write(data[: len(data) // 2])
        handle.flush()
        time.sleep(0.5)  # longer than any settle delay: only "still open for writing" holds it back
        handle.write(data[len(data) // 2 :])
    wait_for(lambda: harness.checkpoint_status(acf_doc(1)["checkpoint_id"]) == "running")
    assert [o.outcome for o in harness.reported(path)] == ["loaded"], "a half-written file was read"


def test_write_then_rename_and_overwrite_by_rename(harness: Harness, watched: Path) -> None:
    target = watched / "cp.json"
    for status, expected in (("partial", "running"), ("failed", "failed")):
        temp = watched / "cp.json.tmp"
        write_json(temp, acf_doc(2, status))
        os.replace(temp, target)
        wait_for(lambda expected=expected: harness.checkpoint_status(acf_doc(2)["checkpoint_id"]) == expected)
    assert harness.outcome_of(temp) is None, "the temp file itself was recorded"
    assert [o.outcome for o in harness.reported(target, 2)] == ["loaded", "loaded"]


def test_files_copied_or_moved_in_and_a_whole_folder_moved_in(
    harness: Harness, watched: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    write_json(outside / "moved.json", acf_doc(3))
    write_json(outside / "copied.json", acf_doc(4))
    shutil.copytree(ACF_SAMPLE, outside / "tree")
    tree_files = sorted(p.relative_to(outside / "tree") for p in (outside / "tree").rglob("*.json"))

    os.rename(outside / "moved.json", watched / "moved.json")
    shutil.copy(outside / "copied.json", watched / "copied.json")
    os.rename(outside / "tree", watched / "tree")

    wait_for(lambda: harness.outcome_of(watched / "moved.json") == "loaded")
    wait_for(lambda: harness.outcome_of(watched / "copied.json") == "loaded")
    wait_for(lambda: all(harness.outcome_of(watched / "tree" / rel) == "loaded" for rel in tree_files))
    assert len(tree_files) >= 9
    assert harness.count(Checkpoint) == 2 + len(tree_files)


def test_deleted_files_and_folders_are_marked_and_keep_their_records(harness: Harness, watched: Path) -> None:
    write_json(watched / "keep.json", acf_doc(5))
    shutil.copytree(ACF_SAMPLE, watched / "tree")
    tree_files = list((watched / "tree").rglob("*.json"))
    wait_for(lambda: harness.count(SourceFile, SourceFile.outcome == "loaded") == 1 + len(tree_files))
    checkpoints = harness.count(Checkpoint)

    (watched / "keep.json").unlink()
    shutil.rmtree(watched / "tree")
    wait_for(lambda: harness.count(SourceFile, SourceFile.outcome == "deleted") == 1 + len(tree_files))
    assert harness.count(Checkpoint) == checkpoints  # the runs still happened


def test_append_only_jsonl_reads_only_new_complete_lines(harness: Harness, watched: Path) -> None:
    lines = TRACE.read_bytes().splitlines(keepends=True)
    path = watched / "runs" / TRACE.name
    path.parent.mkdir()
    path.write_bytes(b"".join(lines[:10]))
    wait_for(lambda: harness.count(Event) == 10)

    with open(path, "ab") as handle:  # two whole lines and half of a third
        handle.write(b"".join(lines[10:12]) + lines[12][:40])
    wait_for(lambda: harness.count(Event) == 12)
    row = harness.file(path)
    assert row is not None and (row.line_count, row.read_offset) == (12, len(b"".join(lines[:12])))
    assert [o.append for o in harness.reported(path, 2)] == [False, True]

    with open(path, "ab") as handle:  # the half line is finished
        handle.write(lines[12][40:] + b"".join(lines[13:16]))
    wait_for(lambda: harness.count(Event) == 16)
    assert [(o.outcome, o.append) for o in harness.reported(path, 3)] == [("loaded", False)] + [
        ("loaded", True)
    ] * 2

    with open(path, "ab") as handle:  # the attempt fails and a resume starts: read whole
        handle.write(b"".join(lines[16:20]))
    wait_for(lambda: harness.count(Event) == 20)
    assert harness.reported(path, 4)[-1].append is False

    path.write_bytes(b"".join(lines[:3]))  # cut short (rotated): keeps what it held, reads on from its end
    shortened = harness.reported(path, 5)[-1]
    assert shortened.append is True and "shorter than" in (shortened.error or "")
    assert harness.count(Event) == 20

    with open(path, "ab") as handle:  # a writer that keeps the file open: lines show up anyway
        for number in range(20, 23):
            handle.write(lines[number])
            handle.flush()
            wait_for(lambda number=number: harness.count(Event) == number + 1)


def test_file_rewritten_while_being_read_ends_with_the_last_content(harness: Harness, watched: Path) -> None:
    path = watched / "busy.json"
    stop = threading.Event()

    def rewrite() -> None:
        n = 0
        while not stop.is_set():  # whole rewrites of different sizes, back to back
            write_json(path, acf_doc(6, "partial", pad=" " * (n % 7) * 500))
            n += 1

    writer = threading.Thread(target=rewrite)
    writer.start()
    time.sleep(0.5)
    stop.set()
    writer.join()
    write_json(path, acf_doc(6, "completed"))
    wait_for(lambda: harness.checkpoint_status(acf_doc(6)["checkpoint_id"]) == "completed")
    wait_for(lambda: harness.outcome_of(path) == "loaded")
    assert harness.reported(path)[-1].outcome == "loaded"


def test_editor_temp_and_swap_files_are_ignored(harness: Harness, watched: Path) -> None:
    doc = json.dumps(acf_doc(7))
    for name in (".cp.json.swp", "cp.json~", "#cp.json#", ".#cp.json", "4913", "cp.json.tmp", "cp.json.part"):
        (watched / name).write_text(doc)
    (watched / "notes.txt").write_text(doc)
    (watched / "cp.json").write_text(doc)
    wait_for(lambda: harness.outcome_of(watched / "cp.json") == "loaded")
    with harness.store.engine.connect() as connection:
        paths = connection.execute(select(SourceFile.path)).scalars().all()
    assert paths == [str(watched / "cp.json")]


def test_sqlite_wal_database_is_reread_when_it_changes(harness: Harness, watched: Path) -> None:
    database = watched / ".loopengt" / "traces.db"
    database.parent.mkdir()
    shutil.copy(LOOPENGT / "traces.db", database)
    wait_for(lambda: harness.outcome_of(database) == "loaded")
    events = harness.count(Event)
    writer = sqlite3.connect(database)
    try:
        assert writer.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        row = writer.execute("SELECT * FROM events ORDER BY timestamp DESC LIMIT 1").fetchone()
        writer.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", ("feedfacecafe0001", *row[1:]))
        writer.commit()  # the connection stays open: the new row lives in traces.db-wal only
        assert (watched / ".loopengt" / "traces.db-wal").stat().st_size > 0
        wait_for(lambda: harness.count(Event) == events + 1)
    finally:
        writer.close()
    assert harness.outcome_of(database) == "loaded"
    assert harness.outcome_of(watched / ".loopengt" / "traces.db-wal") is None


def test_own_database_inside_a_watched_folder_is_never_ingested(tmp_path: Path) -> None:
    h = Harness(tmp_path, f"sqlite:///{tmp_path / 'baton.db'}").start()
    try:
        write_json(tmp_path / "cp.json", acf_doc(8))
        wait_for(lambda: h.outcome_of(tmp_path / "cp.json") == "loaded")
        write_json(tmp_path / "cp2.json", acf_doc(9))
        wait_for(lambda: h.outcome_of(tmp_path / "cp2.json") == "loaded")
        assert h.outcome_of(tmp_path / "baton.db") is None
        assert all("baton.db" not in o.path for o in h.outcomes)
    finally:
        h.stop()


# -- bursts, readers, restarts, shutdown ---------------------------------------------------------
@pytest.mark.timeout(120)
def test_burst_is_batched_and_a_reader_never_sees_a_lock_error(
    watched: Path, tmp_path: Path, sqlite_url: str
) -> None:
    count = 3000
    staging = tmp_path / "staging" / "burst"
    for n in range(count):
        folder = staging / f"task-{n // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        task = f"{n // 100:08x}-aaaa-4bbb-8ccc-dddddddddddd"
        (folder / f"{n:05d}.json").write_text(json.dumps(acf_doc(n, task=task), indent=2))
    h = Harness(watched, sqlite_url).start()
    reader_engine = make_engine(sqlite_url)
    errors: list[str] = []
    reads: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                queries.list_runs(reader_engine, limit=50)
                reads.append(queries.file_outcome_counts(reader_engine).get("loaded", 0))
            except Exception as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        os.rename(staging, watched / "burst")  # thousands of files arrive at once
        wait_for(lambda: h.count(SourceFile, SourceFile.outcome == "loaded") == count, timeout=60)
    finally:
        stop.set()
        thread.join()
        h.stop()
        reader_engine.dispose()
    assert errors == []
    assert len(reads) > 1 and reads == sorted(reads), "a reader saw the loaded count go down"
    with make_engine(sqlite_url).connect() as connection:
        transactions = connection.execute(
            select(func.count(func.distinct(SourceFile.loaded_at)))
        ).scalar_one()
    assert transactions <= 10, f"{count} files took {transactions} transactions"


def test_catch_up_after_restart(watched: Path, sqlite_url: str) -> None:
    write_json(watched / "a.json", acf_doc(10))
    write_json(watched / "b.json", acf_doc(11))
    first = Harness(watched, sqlite_url).start()
    assert first.outcome_of(watched / "a.json") == "loaded"  # the catch-up scan, before any event
    first.stop()

    write_json(watched / "c.json", acf_doc(12))  # while nothing watched
    write_json(watched / "a.json", acf_doc(10, "failed"))
    (watched / "b.json").unlink()
    second = Harness(watched, sqlite_url).start()
    try:
        assert second.outcome_of(watched / "c.json") == "loaded"
        assert second.checkpoint_status(acf_doc(10)["checkpoint_id"]) == "failed"
        assert second.outcome_of(watched / "b.json") == "deleted"
        assert sorted(Path(o.path).name for o in second.outcomes) == ["a.json", "b.json", "c.json"]
    finally:
        second.stop()


def test_stop_leaves_no_thread_behind(watched: Path, sqlite_url: str) -> None:
    before = set(threading.enumerate())
    for poll in (False, True):
        h = Harness(watched, sqlite_url, poll=poll, poll_interval=0.1).start()
        write_json(watched / f"cp-{poll}.json", acf_doc(13 + poll))
        wait_for(lambda h=h, poll=poll: h.outcome_of(watched / f"cp-{poll}.json") == "loaded")
        assert h.watcher.state().running
        h.stop()
        assert not h.watcher.state().running and h.watcher.state().mode == "stopped"
    leaked = [t for t in threading.enumerate() if t not in before]
    assert leaked == []


# -- inotify exhaustion and forced polling --------------------------------------------------------
class OutOfWatches(InotifyObserver):
    """A real inotify observer for which the kernel refuses watches below one folder, as
    inotify_add_watch does when fs.inotify.max_user_watches is used up."""

    refused: Path

    def schedule(self, event_handler, path, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path) == self.refused:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")
        return super().schedule(event_handler, path, **kwargs)


def test_a_folder_falls_back_to_polling_when_inotify_watches_run_out(tmp_path: Path, sqlite_url: str) -> None:
    live, starved = tmp_path / "live", tmp_path / "starved"
    live.mkdir(), starved.mkdir()
    OutOfWatches.refused = starved.resolve()
    store = Store(make_engine(sqlite_url))
    watcher = Watcher([live, starved], store, inotify_factory=OutOfWatches, poll_interval=0.1).start()
    try:
        state = watcher.state()
        assert {f.path: f.mode for f in state.folders} == {
            str(live.resolve()): "inotify",
            str(starved.resolve()): "polling",
        }
        assert state.mode == "mixed"
        assert any("inotify watches ran out" in w and str(starved.resolve()) in w for w in state.warnings)
        write_json(live / "a.json", acf_doc(20))
        write_json(starved / "b.json", acf_doc(21))
        wait_for(lambda: queries.file_outcome_counts(store.engine).get("loaded") == 2)
    finally:
        watcher.stop()
        store.engine.dispose()


def test_poll_forces_polling(watched: Path, sqlite_url: str) -> None:
    h = Harness(watched, sqlite_url, poll=True, poll_interval=0.1).start()
    try:
        assert h.watcher.state().mode == "polling"
        write_json(watched / "a.json", acf_doc(22))
        wait_for(lambda: h.outcome_of(watched / "a.json") == "loaded")
        (watched / "a.json").unlink()
        wait_for(lambda: h.outcome_of(watched / "a.json") == "deleted")
    finally:
        h.stop()


# -- the command -----------------------------------------------------------------------------------
@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_baton_watch_prints_a_line_per_file_and_exits_cleanly(
    watched: Path, sqlite_url: str, stop_signal: signal.Signals
) -> None:
    write_json(watched / "before.json", acf_doc(30))
    process = subprocess.Popen(
        [sys.executable, "-m", "baton", "watch", str(watched), "--db", sqlite_url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"loaded {watched.resolve() / 'before.json'}: 1 checkpoints"), first
        write_json(watched / "after.json", acf_doc(31))
        (watched / "broken.json").write_text('{"ac_version": "0.1.0", "checkpoint_id": ')
        lines = sorted([process.stdout.readline(), process.stdout.readline()])
        assert lines[0].startswith(f"failed {watched.resolve() / 'broken.json'}:1: invalid JSON"), lines
        assert "truncated JSON" in lines[0]
        assert lines[1].startswith(f"loaded {watched.resolve() / 'after.json'}"), lines
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"watching {watched.resolve()} (inotify)" in err
    assert "stopped: 2 loaded, 1 failed, 0 deleted" in err and "Traceback" not in err


# -- the dashboard's entry points ------------------------------------------------------------------
def test_start_background_starts_one_watcher_per_process(watched: Path, sqlite_url: str) -> None:
    handles = []
    threads = [
        threading.Thread(target=lambda: handles.append(start_background([watched], sqlite_url)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len({id(h) for h in handles}) == 1
        handle = handles[0]
        assert start_background([watched / "elsewhere"], sqlite_url) is handle  # already running: same one
        state = handle.state()
        assert state.running and state.mode == "inotify"
        assert [(f.path, f.mode) for f in state.folders] == [(str(watched.resolve()), "inotify")]
        write_json(watched / "a.json", acf_doc(40))
        wait_for(lambda: handle.state().files_loaded == 1)
        # The catch-up scan may be what loaded it; it reports the file before it ends.
        wait_for(lambda: handle.state().caught_up)
        assert handle.state().last_error is None
    finally:
        handles[0].stop()
    assert not handles[0].state().running
    again = start_background([watched], sqlite_url)  # a stopped one is replaced
    try:
        assert again is not handles[0] and again.state().running
    finally:
        again.stop()
        watcher_module._background = None


def test_default_watch_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_WATCH", os.pathsep.join([str(tmp_path / "a"), "", str(tmp_path / "b")]))
    assert default_watch_paths() == [tmp_path / "a", tmp_path / "b"]

    monkeypatch.delenv("BATON_WATCH")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHECKPOINT_DIR", str(tmp_path / "harness"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))  # not this machine's ~/.claude
    assert default_watch_paths() == [SAMPLE_RUNS]
    (tmp_path / "harness").mkdir()
    (tmp_path / ".loopengt").mkdir()
    assert default_watch_paths() == [SAMPLE_RUNS, tmp_path / "harness", tmp_path / ".loopengt"]


def test_a_single_file_can_be_watched(tmp_path: Path, sqlite_url: str) -> None:
    lines = TRACE.read_bytes().splitlines(keepends=True)
    path = tmp_path / TRACE.name
    path.write_bytes(b"".join(lines[:5]))
    write_json(tmp_path / "neighbour.json", acf_doc(50))
    h = Harness(path, sqlite_url).start()
    try:
        assert h.count(Event) == 5 and [f.mode for f in h.watcher.state().folders] == ["inotify"]
        with open(path, "ab") as handle:
            handle.write(b"".join(lines[5:8]))
        wait_for(lambda: h.count(Event) == 8)
        write_json(tmp_path / "neighbour.json", acf_doc(50, "failed"))  # next to it: not watched
        with open(path, "ab") as handle:
            handle.write(lines[8])
        wait_for(lambda: h.count(Event) == 9)
        assert h.outcome_of(tmp_path / "neighbour.json") is None
    finally:
        h.stop()


def test_a_file_name_that_is_not_utf8_is_reported_once_and_the_watcher_goes_on(
    harness: Harness, watched: Path
) -> None:
    folder = os.fsencode(watched)  # watched from the start: no event can be missed
    odd = os.path.join(folder, b"cp-\xff.json")
    with open(odd, "w") as handle:  # created, written, closed: three events for one file
        json.dump(acf_doc(30), handle)
    os.rename(odd, os.path.join(folder, b"cp-\xfe.json"))  # and moved
    write_json(watched / "good.json", acf_doc(31))
    wait_for(lambda: harness.outcome_of(watched / "good.json") == "loaded")
    state = harness.watcher.state()
    assert state.running and state.last_error is None
    assert [w for w in state.warnings if "not valid UTF-8" in w] == [
        f"{watched}/cp-\\xff.json: the file name is not valid UTF-8 (rename the file to load it)",
        f"{watched}/cp-\\xfe.json: the file name is not valid UTF-8 (rename the file to load it)",
    ]
    assert harness.count(SourceFile) == 1


def test_a_batch_that_meets_a_locked_database_is_loaded_once_the_lock_is_free(
    watched: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_BUSY_TIMEOUT_S", "0.2")
    database = tmp_path / "baton.db"
    h = Harness(watched, f"sqlite:///{database}").start()
    try:
        assert h.watcher.wait_caught_up(DEADLINE)
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process keeps the write lock
        try:
            # Renamed into place: one event, so nothing but the retry can load it later.
            write_json(watched / "cp.json.tmp", acf_doc(40))
            os.replace(watched / "cp.json.tmp", watched / "cp.json")
            wait_for(lambda: "database is locked" in (h.watcher.state().last_error or ""))
        finally:
            other.execute("ROLLBACK")
            other.close()
        wait_for(lambda: h.outcome_of(watched / "cp.json") == "loaded")
        assert h.watcher.running
    finally:
        h.stop()

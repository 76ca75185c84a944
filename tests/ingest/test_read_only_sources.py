"""Never change what we read: SQLite sources (loopengt traces.db, techrevati stores, harness
session stores) are read by `baton ingest` and `baton watch` without a byte of their folder
changing, no `-shm`/`-wal` created, none written, none folded into its database; the
commits still in a `-wal` (an agent running) load all the same.

Every database here is a real one from sample_runs/ (copied), in WAL mode; one is held open by
a writer process with its commits only in its `-wal`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ingest.content import connect_read_only
from ingest.errors import SourceChanged
from ingest.sqlite_source import consistent_view
from tests.conftest import REPO, SAMPLE_RUNS

TRACES = SAMPLE_RUNS / "loopengt" / "v0.1.0" / ".loopengt" / "traces.db"
TECHREVATI = SAMPLE_RUNS / "techrevati" / "v0.4.0"
SESSIONS = SAMPLE_RUNS / "harness" / "v0.14.0" / "sessions" / "sessions.sqlite"
SIDE_FILE = ("-wal", "-shm", "-journal")
DEADLINE = 20.0

# A loopengt agent still running: its trace store in WAL mode, kept open, its commits in the
# -wal only (no checkpoint folds them into traces.db). Each number read from stdin commits
# that many more events of the latest run; "checkpoint" folds the -wal into traces.db, restarts
# the log and commits a change to the first event's metadata (a page the earlier commits left alone).
WRITER = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
db.execute("PRAGMA wal_autocheckpoint=0")
batch = 0
def add(count):
    global batch
    batch += 1
    row = db.execute("SELECT * FROM events ORDER BY timestamp DESC LIMIT 1").fetchone()
    db.execute("BEGIN")
    for n in range(count):
        db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (f"feed{batch:04d}{n:08d}", *row[1:]))
    db.execute("COMMIT")
    print("committed", flush=True)
def checkpoint():
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("UPDATE events SET metadata = '{\"checkpointed\": 1}' WHERE rowid = (SELECT min(rowid) FROM events)")
    print("committed", flush=True)
add(int(sys.argv[2]))
for line in sys.stdin:
    checkpoint() if line.strip() == "checkpoint" else add(int(line))
"""


def folder_state(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden ones too) with the hash of its bytes."""
    state = {}
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(parent, name)
            state[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def _wal_copy(source: Path, target: Path) -> Path:
    """A copy of the sample database ``source`` switched to WAL mode (closed: no -wal left)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    with closing(sqlite3.connect(target)) as db:
        assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    assert not any(Path(f"{target}{suffix}").exists() for suffix in SIDE_FILE)
    return target


def _events_of_latest_run(database: Path) -> tuple[str, int, int]:
    """The run the writer adds to (its latest event's), how many events it has, and how many
    the database file holds (its -wal aside)."""
    with closing(sqlite3.connect(f"{database.as_uri()}?immutable=1", uri=True)) as db:
        (run_id,) = db.execute("SELECT run_id FROM events ORDER BY timestamp DESC LIMIT 1").fetchone()
        (count,) = db.execute("SELECT count(*) FROM events WHERE run_id = ?", (run_id,)).fetchone()
        (total,) = db.execute("SELECT count(*) FROM events").fetchone()
    return run_id, count, total


class Agents:
    """A folder of WAL databases, one of them held open by a running writer."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "agents"
        self.traces = self.folder / "project" / ".loopengt" / "traces.db"
        _wal_copy(TRACES, self.traces)
        for name in ("resume.sqlite", "duplicates.sqlite"):
            _wal_copy(TECHREVATI / name, self.folder / "techrevati" / name)
        _wal_copy(SESSIONS, self.folder / "harness" / "sessions.sqlite")
        self.databases = sorted(str(p) for p in self.folder.rglob("*") if p.suffix in (".db", ".sqlite"))
        self.run_id, self.sample_events, self.sample_total = _events_of_latest_run(self.traces)
        self.writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(self.traces), "3"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.committed = 3
        self._wait_committed()

    def _wait_committed(self, folded: bool = False) -> None:
        assert self.writer.stdout is not None
        assert self.writer.stdout.readline().strip() == "committed"
        assert Path(f"{self.traces}-wal").stat().st_size > 0  # the last commit is in the -wal only
        in_file = self.sample_events + (self.committed if folded else 0)
        assert _events_of_latest_run(self.traces)[1] == in_file

    def _send(self, line: str) -> None:
        assert self.writer.stdin is not None
        self.writer.stdin.write(f"{line}\n")
        self.writer.stdin.flush()

    def commit(self, count: int) -> None:
        self._send(str(count))
        self.committed += count
        self._wait_committed()

    def checkpoint(self) -> None:
        """Fold the -wal into traces.db, restart the log and commit one more change there."""
        self._send("checkpoint")
        self._wait_committed(folded=True)

    def stop(self) -> None:
        self.writer.kill()
        self.writer.wait()


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[Agents]:
    agents = Agents(tmp_path)
    try:
        yield agents
    finally:
        agents.stop()


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    """Where Baton's processes make their temp folders: empty again once they are done."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def _env(private_tmp: Path) -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(REPO), "TMPDIR": str(private_tmp)}


def _baton(private_tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args],
        env=_env(private_tmp),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _events_loaded(private_tmp: Path, db_url: str, run_id: str) -> int:
    result = _baton(private_tmp, "runs", "--framework", "loopengt", "--json", "--db", db_url)
    assert result.returncode == 0, result.stderr
    return next(run["events"] for run in json.loads(result.stdout) if run["native_id"] == run_id)


def test_ingest_leaves_a_folder_of_wal_databases_exactly_as_it_was(
    agents: Agents, tmp_path: Path, private_tmp: Path
) -> None:
    before = folder_state(agents.folder)
    assert "project/.loopengt/traces.db-wal" in before and "project/.loopengt/traces.db-shm" in before
    db_url = f"sqlite:///{tmp_path / 'baton.db'}"
    result = _baton(private_tmp, "ingest", str(agents.folder), "--db", db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 loaded" in result.stdout, result.stdout
    assert folder_state(agents.folder) == before
    assert list(private_tmp.iterdir()) == []  # the private copies are gone too
    # The writer's commits, only in traces.db-wal, were read.
    assert _events_loaded(private_tmp, db_url, agents.run_id) == agents.sample_events + agents.committed


def test_watch_reads_wal_databases_without_changing_them_and_rereads_on_wal_changes(
    agents: Agents, tmp_path: Path, private_tmp: Path
) -> None:
    before = folder_state(agents.folder)
    db_url = f"sqlite:///{tmp_path / 'baton.db'}"
    watch = subprocess.Popen(
        [sys.executable, "-m", "baton", "watch", str(agents.folder), "--db", db_url],
        env=_env(private_tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watch.stdout is not None
        loaded = [watch.stdout.readline().split(":")[0] for _database in agents.databases]
        assert sorted(loaded) == [f"loaded {database}" for database in agents.databases]
        assert folder_state(agents.folder) == before  # while it watches
        assert _events_loaded(private_tmp, db_url, agents.run_id) == agents.sample_events + 3

        agents.commit(5)  # a change of traces.db-wal only: a change of traces.db
        written = folder_state(agents.folder)
        assert written["project/.loopengt/traces.db"] == before["project/.loopengt/traces.db"]
        line = watch.stdout.readline()
        assert line.startswith(f"loaded {agents.traces}: 0 checkpoints, {agents.sample_total + 8} events"), (
            line
        )
        assert _events_loaded(private_tmp, db_url, agents.run_id) == agents.sample_events + 8
        assert folder_state(agents.folder) == written
    finally:
        watch.send_signal(signal.SIGTERM)
        _out, err = watch.communicate(timeout=DEADLINE)
    assert watch.returncode == 0, err
    assert folder_state(agents.folder) == written  # after it stopped
    assert list(private_tmp.iterdir()) == []


def test_connect_read_only_sees_the_wal_and_creates_nothing(
    agents: Agents, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    """The one read-only open every SQLite parser uses (a LangGraph one too)."""
    monkeypatch.setattr("tempfile.tempdir", str(private_tmp))
    before = folder_state(agents.folder)
    for database in agents.databases:
        with closing(connect_read_only(database)) as db:
            assert db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    with closing(connect_read_only(agents.traces)) as db:
        query = "SELECT count(*) FROM events WHERE run_id = ?"
        assert db.execute(query, (agents.run_id,)).fetchone()[0] == agents.sample_events + 3
        assert len(list(private_tmp.iterdir())) == 1  # a private copy, while it is open
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("DELETE FROM events")
    assert list(private_tmp.iterdir()) == []
    assert folder_state(agents.folder) == before


def test_a_log_restarted_while_it_is_copied_is_copied_again(
    agents: Agents, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    """The worst moment: the writer folds its -wal into the database and starts a new log
    between the copy of the database and the copy of its -wal. That pair is no state the
    database was ever in (the earlier commits would be in neither), so it is copied again."""
    monkeypatch.setattr("tempfile.tempdir", str(private_tmp))
    copyfile = shutil.copyfile
    copied: list[str] = []

    def copy_with_a_checkpoint_between(source: str, target: str) -> str:
        result = copyfile(source, target)
        copied.append(os.path.basename(source))
        if copied == ["traces.db"]:
            agents.checkpoint()
        return result

    monkeypatch.setattr(shutil, "copyfile", copy_with_a_checkpoint_between)
    with closing(connect_read_only(agents.traces)) as db:
        query = "SELECT count(*) FROM events WHERE run_id = ?"
        assert db.execute(query, (agents.run_id,)).fetchone()[0] == agents.sample_events + 3
    assert copied == ["traces.db", "traces.db-wal"] * 2


# A writer that commits one event and closes: its close folds the -wal into the database.
WRITE_AND_CLOSE = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT * FROM events LIMIT 1").fetchone()
db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", ("written-meanwhile", *row[1:]))
db.commit()
db.close()
"""


def test_an_immutable_read_of_a_database_written_meanwhile_is_read_again(
    tmp_path: Path, private_tmp: Path
) -> None:
    """Without a -wal a WAL database is read as immutable; a writer that commits and folds its
    log into the file during that read makes the read start over (``Unstable``)."""
    database = _wal_copy(TRACES, tmp_path / "agents" / "traces.db")
    with pytest.raises(SourceChanged), consistent_view(database):
        with closing(connect_read_only(database)) as db:
            db.execute("SELECT count(*) FROM events").fetchone()
        subprocess.run([sys.executable, "-c", WRITE_AND_CLOSE, str(database)], check=True)
        assert not Path(f"{database}-wal").exists()  # its close folded the log into the file
    with consistent_view(database), closing(connect_read_only(database)) as db:  # settled: read
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == _events_of_latest_run(database)[2]


# A writer that dies in the middle of a transaction of a rollback-journal database: its
# pages already written into the database, the originals only in its hot -journal.
DYING_WRITER = r"""
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size=1")
row = db.execute("SELECT * FROM events LIMIT 1").fetchone()
db.execute("BEGIN")
for n in range(3000):
    db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (f"dead{n:08d}", *row[1:]))
os._exit(0)
"""


def test_a_hot_journal_is_rolled_back_in_a_private_copy(tmp_path: Path, private_tmp: Path) -> None:
    database = tmp_path / "agents" / ".loopengt" / "traces.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(TRACES.read_bytes())
    subprocess.run([sys.executable, "-c", DYING_WRITER, str(database)], check=True)
    assert Path(f"{database}-journal").stat().st_size > 0
    assert database.read_bytes() != TRACES.read_bytes()  # half a transaction in the file
    before = folder_state(database.parent)
    db_url = f"sqlite:///{tmp_path / 'baton.db'}"
    result = _baton(private_tmp, "ingest", str(database), "--db", db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 loaded" in result.stdout
    assert folder_state(database.parent) == before
    assert list(private_tmp.iterdir()) == []
    runs = json.loads(_baton(private_tmp, "runs", "--json", "--db", db_url).stdout)
    assert sorted(run["events"] for run in runs) == [19, 22]  # the committed rows, as in the sample


def test_sample_runs_commit_no_sqlite_side_files_but_documented_writer_samples() -> None:
    """A `-wal`/`-shm` left by a reader is noise (and a change Baton made); only a sample of a
    database still open by its writer keeps them, named in its folder's README."""
    listed = subprocess.run(
        ["git", "ls-files", "sample_runs"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    undocumented = []
    for name in listed:
        if not name.endswith(SIDE_FILE):
            continue
        path = REPO / name
        readmes = [parent / "README.md" for parent in path.parents if parent.is_relative_to(SAMPLE_RUNS)]
        if path.stat().st_size == 0 or not any(r.exists() and path.name in r.read_text() for r in readmes):
            undocumented.append(name)
    assert undocumented == []


# An agent committing every few milliseconds, ten events a transaction, and folding its -wal
# into the database (and restarting the log) after every few commits.
BUSY_WRITER = r"""
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
db.execute("PRAGMA wal_autocheckpoint=0")
row = db.execute("SELECT * FROM events LIMIT 1").fetchone()
print("writing", flush=True)
for batch in range(1000000):
    db.execute("BEGIN")
    for n in range(10):
        db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (f"busy{batch:06d}{n:02d}", *row[1:]))
    db.execute("COMMIT")
    if batch % 3 == 2:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    time.sleep(0.003)
"""


READS = 20


def test_a_database_being_written_loads_one_committed_state_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    from ingest.reading import Unstable, read_file

    monkeypatch.setattr("tempfile.tempdir", str(private_tmp))
    database = _wal_copy(TRACES, tmp_path / "agents" / "traces.db")
    sample_total = _events_of_latest_run(database)[2]
    writer = subprocess.Popen(
        [sys.executable, "-c", BUSY_WRITER, str(database)], stdout=subprocess.PIPE, text=True
    )
    loaded: list[int] = []
    busy = 0
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        for _ in range(READS):
            try:
                outcome = read_file(database, None)
            except Unstable:
                busy += 1
                continue
            assert outcome is not None and outcome.outcome == "loaded", outcome and outcome.error
            assert outcome.parsed is not None
            loaded.append(len(outcome.parsed.events))
    finally:
        writer.kill()
        writer.wait()
    assert len(loaded) >= READS // 4, f"{busy} of {READS} reads found the database changing"
    assert all((count - sample_total) % 10 == 0 for count in loaded), loaded  # whole transactions
    assert loaded == sorted(loaded) and loaded[-1] > sample_total  # and the writer's latest
    assert list(private_tmp.iterdir()) == []

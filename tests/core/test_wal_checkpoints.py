"""During an ingest pass a thread checkpoints the SQLite log instead of the writer's commits
(core.store.wal). What a user relies on: every record is there and readable, nothing
is left running after the pass, the log is copied into the database file when the pass
ends, and later writes checkpoint as SQLite normally does."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import orjson
import pytest

from core.db import make_engine
from core.store import Store, wal
from ingest.loader import ingest_paths
from ingest.reading import read_file
from tests.conftest import SAMPLE_RUNS
from tests.helpers import row_counts

ACF_SAMPLE = next((SAMPLE_RUNS / "acf").rglob("*.json"))
THREAD = "baton-wal-checkpoint"


def _checkpointer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


def _write_documents(folder: Path, count: int) -> None:
    """``count`` ACF documents, each its own run, padded to a few KB (the log grows fast)."""
    template = orjson.loads(ACF_SAMPLE.read_bytes())
    template = template[0] if isinstance(template, list) else template
    for n in range(count):
        doc = dict(
            template,
            checkpoint_id=f"{n:08x}-1111-4111-8111-{n:012x}",
            task_id=f"{n:08x}-2222-4222-8222-{n:012x}",
            parent_checkpoint_id=None,
            partial_output={"notes": "x" * 3000, "n": n},
        )
        (folder / f"{n:05d}.json").write_bytes(orjson.dumps(doc))


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wal, "THRESHOLD_BYTES", 64 << 10)


def test_a_pass_checkpoints_in_a_thread_that_ends_with_it(tmp_path: Path, small_threshold: None) -> None:
    tree = tmp_path / "runs"
    tree.mkdir()
    _write_documents(tree, 400)
    database = tmp_path / "baton.db"
    store = Store(make_engine(f"sqlite:///{database}"))
    seen_during: list[int] = []
    summary = ingest_paths(
        [tree], store, on_outcome=lambda _: seen_during.append(len(_checkpointer_threads()))
    )

    assert summary.files_loaded == 400
    assert seen_during and set(seen_during) == {1}
    assert _checkpointer_threads() == []
    assert row_counts(store.engine)["checkpoint"] == 400
    # The pass ended with a checkpoint: everything in the log is in the database file.
    with sqlite3.connect(database) as connection:
        busy, log_frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log_frames == copied


def test_writes_after_a_pass_checkpoint_in_their_commits_again(tmp_path: Path) -> None:
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    ingest_paths([SAMPLE_RUNS / "acf"], store)
    outcome = read_file(ACF_SAMPLE, None)
    assert outcome is not None
    outcome.path = str(tmp_path / "copy.json")
    store.write_batch([outcome])
    with store.engine.connect() as connection:  # the one pooled connection the writes used
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000


def test_overlapping_passes_share_one_thread_until_the_last_ends(tmp_path: Path) -> None:
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    with store.background_wal_checkpoints():
        with store.background_wal_checkpoints():
            assert len(_checkpointer_threads()) == 1
        assert len(_checkpointer_threads()) == 1
    assert _checkpointer_threads() == []


def test_no_thread_for_a_database_that_is_not_a_sqlite_file() -> None:
    store = Store(make_engine("sqlite://"))
    with store.background_wal_checkpoints():
        assert _checkpointer_threads() == []


def _open_writer(database: Path) -> sqlite3.Connection:
    """A writer that never checkpoints (kept open: the last connection to close would
    checkpoint and remove the log)."""
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
    return writer


def _write_log(writer: sqlite3.Connection, megabytes: int) -> None:
    for _ in range(megabytes * 4):
        writer.execute("INSERT INTO filler VALUES (randomblob(250000))")


def test_a_large_log_file_that_is_copied_is_not_behind(tmp_path: Path) -> None:
    database = tmp_path / "big.db"
    writer = _open_writer(database)
    _write_log(writer, 8)
    checkpointer = wal.WalCheckpointer(str(database), threshold_bytes=64 << 10)
    checkpointer.start()
    checkpointer.stop()  # one checkpoint: the log is large
    # SQLite keeps the log file at its size, far past the point of being behind (16 x the
    # threshold, 4 x would do), but all is copied.
    assert (tmp_path / "big.db-wal").stat().st_size > 16 * (64 << 10)
    assert not checkpointer.behind()
    writer.close()


def test_a_reader_that_keeps_the_log_uncopied_puts_the_checkpointer_behind(tmp_path: Path) -> None:
    database = tmp_path / "big.db"
    writer = _open_writer(database)
    _write_log(writer, 1)
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM filler").fetchone()  # a snapshot the copy cannot pass
    _write_log(writer, 4)
    checkpointer = wal.WalCheckpointer(str(database), threshold_bytes=64 << 10)
    checkpointer.start()
    checkpointer.stop()
    assert checkpointer.behind()
    reader.execute("COMMIT")
    reader.close()
    writer.close()

"""An ingest that finds another process holding the write lock for a while (a long batch of
another writer) waits for it instead of recording its files as failed."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

HELD_S = 11  # past two waits of SQLite's old 5 s busy timeout (a batch, then its first file)


def test_an_ingest_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    database = tmp_path / "baton.db"
    store = Store(make_engine(f"sqlite:///{database}"))
    holding = threading.Event()

    def hold_the_lock() -> None:
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(HELD_S)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait()
    started = time.monotonic()
    summary = ingest_paths([SAMPLE_RUNS / "acf"], store)
    waited = time.monotonic() - started
    holder.join()

    assert summary.files_failed == 0, summary.failures
    assert summary.files_loaded > 0
    assert waited >= HELD_S - 1  # it did wait for the lock

"""An ingest that finds another process holding the write lock for a while (a long batch of
another writer) waits for it instead of recording its files as failed."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from core.db import make_engine
from core.store import Store
from core.tables import SourceFile
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


def test_a_lock_held_past_the_wait_stops_the_ingest_with_one_clear_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    database = tmp_path / "baton.db"
    url = f"sqlite:///{database}"
    make_engine(url).dispose()  # the schema exists; another process then keeps the lock
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    command = [sys.executable, "-m", "baton", "ingest", str(SAMPLE_RUNS / "acf"), "--db", url]
    environment = os.environ | {"BATON_BUSY_TIMEOUT_S": "0.5"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO, env=environment)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "baton: the database is locked: another process held its write lock for more than 0.5 s; "
        "the files not written yet are read on the next ingest (BATON_BUSY_TIMEOUT_S sets the wait)"
    )
    assert "Traceback" not in done.stderr
    # Once the lock is free, the next ingest loads everything.
    again = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert again.returncode == 0 and '"files_failed":0' in again.stdout.replace(" ", "")


def test_files_are_stamped_seen_when_their_batch_holds_the_lock(tmp_path: Path) -> None:
    """The dashboard redraws when max(seen_at) moves: a batch that waited for another
    writer must not record a time from before that writer's commit."""
    database = tmp_path / "baton.db"
    store = Store(make_engine(f"sqlite:///{database}"))
    holding = threading.Event()
    released: list[datetime] = []

    def hold_the_lock() -> None:
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(1.5)
        released.append(datetime.now(UTC))
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait()
    summary = ingest_paths([SAMPLE_RUNS / "acf"], store)
    holder.join()
    assert summary.files_loaded > 0
    with store.engine.connect() as connection:
        first_seen = connection.execute(select(func.min(SourceFile.seen_at))).scalar_one()
    assert store.engine.dialect.name == "sqlite"
    assert datetime.fromisoformat(str(first_seen)).replace(tzinfo=UTC) >= released[0]

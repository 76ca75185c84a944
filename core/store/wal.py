"""Checkpoint a SQLite write-ahead log from a thread of its own while a pass writes.

SQLite checkpoints automatically inside the committing writer: once the log passes 1,000
pages (4 MiB), that commit copies the pages into the database file and waits for two
fsyncs. In a cold ingest this was about a quarter of the writer's time. While a pass runs,
the store turns its writer's automatic checkpoints off and this thread checkpoints instead
(PASSIVE: it never blocks the writer or a reader), mostly inside SQLite with Python's lock
released, while the writer goes on reading and parsing. When the pass ends the thread
runs a last checkpoint and stops.

The thread copies once the log holds 64 MiB, not SQLite's 4 MiB: a cold ingest rewrites
the same index pages in commit after commit, and every checkpoint copied each of them
again (with two fsyncs). A 20,000-file cold pass went from 0.99 to 0.94 s, its last
checkpoint included.

A checkpoint that fails (the database is busy, say) is only tried again later: the pages
stay safe in the log. Should the thread fall behind (its last checkpoint failed, or left
more than 4 times the threshold uncopied, as a long reader can make it), the writer
checkpoints in its commits again until it has caught up, so the log cannot grow without
bound. The log file's size does not say this: SQLite reuses the file and never shrinks it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

log = logging.getLogger(__name__)

THRESHOLD_BYTES = 64 << 20
BEHIND_FACTOR = 4  # 256 MiB uncopied: the writer checkpoints in its commits too


class WalCheckpointer:
    """A thread that checkpoints ``database`` whenever its log has grown past the threshold
    after a ``nudge()`` (the writer calls it after each commit)."""

    def __init__(self, database: str, threshold_bytes: int | None = None) -> None:
        self.database = database
        self.wal = database + "-wal"
        self.threshold_bytes = threshold_bytes or THRESHOLD_BYTES
        self._uncopied_bytes = 0  # what the last checkpoint left in the log
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="baton-wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Run a last checkpoint if the log is large and wait for the thread to end."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def behind(self) -> bool:
        """The last checkpoint left far more than the threshold in the log (or failed): the
        writer should checkpoint too."""
        return self._uncopied_bytes >= BEHIND_FACTOR * self.threshold_bytes

    def _log_size(self) -> int:
        try:
            return os.stat(self.wal).st_size
        except OSError:
            return 0

    def _log_is_large(self) -> bool:
        return self._log_size() >= self.threshold_bytes

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.database, timeout=5, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("cannot open %s to checkpoint it: %s", self.database, exc)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._log_is_large():
                    self._wal_checkpoint(connection)
                if self._stopping:
                    return
        finally:
            connection.close()

    def _wal_checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            (page_size,) = connection.execute("PRAGMA page_size").fetchone()
            _busy, log_pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            log.debug("checkpoint of %s postponed: %s", self.database, exc)
            self._uncopied_bytes = self._log_size()
            return
        self._uncopied_bytes = max(log_pages - copied, 0) * page_size

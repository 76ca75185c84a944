"""A cold ingest of many files on several cores: each process reads, parses and writes a share.

Reading and parsing a file costs about as much as writing it, and all of it is Python, so one
process uses one core. For many files the work is cut into chunks (files of one folder stay
together: a run's files usually share a folder, so one writer sees the whole run) and handed
out as processes finish them: the calling thread takes chunks itself while helper processes
(``python -m ingest.worker``) take others, each writing through its own database connection.
The database serializes the writes; every chunk is written in whole-file batches, one
transaction each, so a reader never sees half a file, whoever wrote it.

Plain subprocesses, not ``multiprocessing``: that re-imports the caller's main module in each
worker (the app script, under Streamlit). A helper that dies has its chunk done in-process.
``BATON_INGEST_WORKERS`` sets the number of processes, the caller included (``1``: never fan
out); by default one per core, at most four, from FANOUT_MIN_FILES files on.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

from core.outcomes import FileOutcome, KnownFile
from core.store import Store
from ingest.loader import IngestSummary, Item, read_and_write
from ingest.worker import read_message, write_message

FANOUT_MIN_FILES = 2000
CHUNK_FILES = 500
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # holds core/ and ingest/


def fanout_workers(files: int, store: Store) -> int:
    """Processes to ingest ``files`` files with, the caller included (1: no fan-out)."""
    if not _shareable(store):
        return 1
    configured = os.environ.get("BATON_INGEST_WORKERS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            pass
    cores = os.cpu_count() or 1
    return 1 if files < FANOUT_MIN_FILES else max(1, min(cores, 4))


def _shareable(store: Store) -> bool:
    """Another process can open this database (not an in-memory SQLite one)."""
    url = store.engine.url
    return url.get_backend_name() != "sqlite" or store.database_path is not None


def chunks_by_folder(items: Sequence[Item], size: int = CHUNK_FILES) -> list[list[Item]]:
    """Consecutive chunks of about ``size`` files that cut between folders where possible."""
    chunks: list[list[Item]] = []
    current: list[Item] = []
    folder = None
    for item in items:
        item_folder = os.path.dirname(item[0])
        if len(current) >= size and item_folder != folder or len(current) >= 2 * size:
            chunks.append(current)
            current = []
        current.append(item)
        folder = item_folder
    if current:
        chunks.append(current)
    return chunks


class _Helper:
    """One helper process writing to the database at ``url``."""

    def __init__(self, url: str) -> None:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(PACKAGE_ROOT), environment.get("PYTHONPATH", "")) if part
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )
        self._send({"db_url": url})

    def _send(self, message: object) -> None:
        assert self.process.stdin is not None
        write_message(self.process.stdin, orjson.dumps(message))

    def ingest(self, chunk: list[Item]) -> dict:
        assert self.process.stdout is not None
        self._send({"items": chunk})  # orjson writes KnownFile as a dict of its fields
        reply = read_message(self.process.stdout)
        if reply is None:
            raise OSError(f"ingest helper exited with status {self.process.poll()}")
        return orjson.loads(reply)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def items_from_message(items: list) -> list[Item]:
    """The ``(path, known)`` items of a helper's request, as ``_Helper.ingest`` sent them."""
    return [(name, None if known is None else KnownFile(**known)) for name, known in items]


def merge_reply(summary: IngestSummary, reply: dict) -> list[FileOutcome]:
    """Add a helper's chunk summary to ``summary``; return its written outcomes (no records)."""
    for key in ("files_loaded", "files_unchanged", "files_ignored", "files_failed", "checkpoints", "events"):
        setattr(summary, key, getattr(summary, key) + reply[key])
    summary.failures.extend(reply["failures"])
    summary.busy.extend(reply["busy"])
    summary.touched_runs.update(reply["touched_runs"])
    return [FileOutcome(**written) for written in reply["written"]]


def ingest_in_workers(
    store: Store,
    items: Sequence[Item],
    workers: int,
    summary: IngestSummary,
    step: Callable[[str], None] | None,
    on_outcome: Callable[[FileOutcome], None] | None,
) -> None:
    """Ingest ``items`` with the calling thread and ``workers - 1`` helper processes."""
    size = max(1, min(CHUNK_FILES, len(items) // (4 * workers)))
    pending = deque(chunks_by_folder(items, size))
    lock = threading.Lock()
    replies: queue.Queue[tuple[list[Item], dict | None]] = queue.Queue()
    stop = threading.Event()
    url = store.engine.url.render_as_string(hide_password=False)

    def next_chunk() -> list[Item] | None:
        with lock:
            return pending.popleft() if pending and not stop.is_set() else None

    def helper_loop() -> None:
        helper = None
        try:
            while (chunk := next_chunk()) is not None:
                try:
                    if helper is None:
                        helper = _Helper(url)
                    replies.put((chunk, helper.ingest(chunk)))
                except (OSError, ValueError):
                    replies.put((chunk, None))  # the helper died: this chunk is done in-process
                    return
        finally:
            if helper is not None:
                helper.close()

    threads = [
        threading.Thread(target=helper_loop, name=f"baton-ingest-{n}", daemon=True)
        for n in range(workers - 1)
    ]
    for thread in threads:
        thread.start()
    retry: list[list[Item]] = []  # chunks of helpers that died, done here at the end

    def take(chunk: list[Item], reply: dict | None) -> None:
        if reply is None:
            retry.append(chunk)
            return
        for outcome in merge_reply(summary, reply):
            if on_outcome:
                on_outcome(outcome)
        if step:
            for name, _known in chunk:
                step(name)

    try:
        while (chunk := next_chunk()) is not None:
            read_and_write(store, chunk, summary, step, on_outcome)
            while not replies.empty():
                take(*replies.get_nowait())
        while any(thread.is_alive() for thread in threads) or not replies.empty():
            try:
                take(*replies.get(timeout=0.5))
            except queue.Empty:
                continue
        for chunk in retry:
            read_and_write(store, chunk, summary, step, on_outcome)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

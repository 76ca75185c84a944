"""A cold ingest of many files on several cores: each process reads, parses and writes a share.

Reading and parsing a file costs about as much as writing it, and all of it is Python, so one
process uses one core. For many files the work is cut into chunks (files of one folder stay
together: a run's files usually share a folder, so one writer sees the whole run) and handed
out as processes finish them: the calling thread takes chunks itself while helper processes
(``python -m ingest.worker``) take others, each writing through its own database connection.
The database serializes the writes; every chunk is written in whole-file batches, one
transaction each, so a reader never sees half a file, whoever wrote it.

A process that runs no other thread (``baton ingest``) forks its helpers: they start at
once with every module imported. Anywhere else (the dashboard, the watcher) helpers are
plain subprocesses (``python -m ingest.worker``), about a second slower to start; not
``multiprocessing``, which re-imports the caller's main module in each child (the app
script, under Streamlit). ``BATON_INGEST_FORK=0`` turns forking off. A helper that dies has
its chunk done in-process.
``BATON_INGEST_WORKERS`` sets the number of processes, the caller included (``1``: never fan
out); by default one per core, at most four, from FANOUT_MIN_FILES files on, or from
FANOUT_MIN_BYTES on for fewer, bigger files (coding agents' sessions of several MB each), whose
chunks are then cut by size, not by count.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from core.errors import database_failure
from core.outcomes import FileOutcome
from core.store import Store
from ingest.batch import IngestSummary, Item, read_and_write
from ingest.registry import all_formats
from ingest.worker import (
    connect_message,
    items_request,
    merge_reply,
    read_message,
    read_reply,
    send,
    serve,
)

T = TypeVar("T")
C = TypeVar("C")  # a chunk of work
R = TypeVar("R")  # what a helper answers for a chunk

FANOUT_MIN_FILES = 2000
FANOUT_MIN_BYTES = 64 * 2**20  # under a second of work: about what a spawned helper takes to start
CHUNK_FILES = 500
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # holds core/ and ingest/


def fanout_processes(files: int, store: Store, size: int = 0) -> int:
    """Processes to ingest ``files`` files of ``size`` bytes in all with, the caller included
    (1: no fan-out)."""
    if files < 2 or not _shareable(store):
        return 1
    configured = os.environ.get("BATON_INGEST_WORKERS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            pass
    cores = os.cpu_count() or 1
    if files < FANOUT_MIN_FILES and size < FANOUT_MIN_BYTES:
        return 1
    return max(1, min(cores, 4))


def file_sizes(items: Sequence[Item]) -> list[int] | None:
    """The size of each file of ``items`` (0 for one that cannot be stat'ed), for fewer than
    FANOUT_MIN_FILES of them (a few ms of stats at most); None for more, which are shared by
    count whatever their sizes."""
    if len(items) >= FANOUT_MIN_FILES:
        return None
    sizes = []
    for name, _known in items:
        try:
            sizes.append(os.stat(name).st_size)
        except OSError:  # gone or unreadable: its reader says so
            sizes.append(0)
    return sizes


def _shareable(store: Store) -> bool:
    """Another process can open this database (not an in-memory SQLite one)."""
    url = store.engine.url
    return url.get_backend_name() != "sqlite" or store.database_path is not None


def chunks_by_folder(items: Sequence[T], size: int = CHUNK_FILES) -> list[list[T]]:
    """Consecutive chunks of ``size`` files (paths, or items whose first element is the
    path), each extended to the end of its last folder, but to no more than ``2 * size``.
    Only the items near a cut are looked at: this runs before the first chunk starts."""

    def folder(index: int) -> str:  # the part before the last "/" (cheaper than os.path.dirname)
        item = items[index]
        return (item if isinstance(item, str) else item[0]).rpartition("/")[0]  # type: ignore[index]

    chunks: list[list[T]] = []
    start, count = 0, len(items)
    while start < count:
        end = min(start + size, count)
        if end < count:
            limit, last = min(start + 2 * size, count), folder(end - 1)
            while end < limit and folder(end) == last:
                end += 1
        chunks.append(list(items[start:end]))
        start = end
    return chunks


def chunks_by_size(items: Sequence[T], sizes: Sequence[int], target: int) -> list[list[T]]:
    """Consecutive chunks of about ``target`` bytes (a file bigger than that is a chunk of its
    own), each extended to the end of its last folder while it stays under ``2 * target``."""

    def folder(index: int) -> str:
        item = items[index]
        return (item if isinstance(item, str) else item[0]).rpartition("/")[0]  # type: ignore[index]

    chunks: list[list[T]] = []
    start, count = 0, len(items)
    while start < count:
        end, total = start + 1, sizes[start]
        while end < count and total + sizes[end] <= target:
            total += sizes[end]
            end += 1
        last = folder(end - 1)
        while end < count and folder(end) == last and total + sizes[end] <= 2 * target:
            total += sizes[end]
            end += 1
        chunks.append(list(items[start:end]))
        start = end
    return chunks


class _Helper:
    """A helper process that ingests chunks sent over a pipe (``ingest.worker`` protocol)."""

    def __init__(self, requests: BinaryIO, replies: BinaryIO) -> None:
        self.requests, self.replies = requests, replies
        self.pending: list[Item] | None = None  # a first chunk given at the fork, not answered yet

    def request(self, message: dict) -> dict:
        """Send one request (built by ``ingest.worker``) and wait for its reply."""
        send(self.requests, message)
        return self.reply()

    def reply(self) -> dict:
        """The answer to the request under way (raises DatabaseBusy, an OSError, as it says)."""
        answer = read_reply(self.replies)
        if answer is None:
            raise OSError(f"ingest helper exited ({self._status()})")
        return answer

    def close(self) -> None:
        """End the helper (it exits when its requests end) and wait for it."""
        with contextlib.suppress(OSError):
            self.requests.close()
        if self.pending is not None:  # a pass that stopped early: read the answer it writes
            with contextlib.suppress(OSError, ValueError):
                read_message(self.replies)
            self.pending = None
        self._wait(timeout=30)
        self.replies.close()

    def _status(self) -> str:
        raise NotImplementedError

    def _wait(self, timeout: float) -> None:
        raise NotImplementedError


class _SpawnedHelper(_Helper):
    """``python -m ingest.worker``: a new interpreter (about a second of imports)."""

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
        assert self.process.stdin is not None and self.process.stdout is not None
        super().__init__(self.process.stdin, self.process.stdout)
        send(self.requests, connect_message(url))

    def _status(self) -> str:
        return f"status {self.process.poll()}"

    def _wait(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _ForkedHelper(_Helper):
    """A fork of this process: ready at once, with every module already imported.

    Only made while this process runs no other thread (a fork copies the calling thread
    alone, and a lock another thread held would stay held in the child) and holds no
    connection to the database (SQLite's file locks are per process: a connection must not
    be carried across a fork). The child opens its own connection and leaves with
    ``os._exit``: nothing of the parent's (buffers, pools, atexit hooks) runs twice."""

    def __init__(self, url: str, others: Sequence[_Helper], first: dict | None = None) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper
            status = 1
            try:
                os.close(request_write)
                os.close(reply_read)
                for other in others:  # else a helper would keep another's requests open
                    other.requests.close()
                    other.replies.close()
                serve(os.fdopen(request_read, "rb"), os.fdopen(reply_write, "wb"), url, first)
                status = 0
            except Exception as exc:
                if database_failure(exc) is None:  # the pass does the chunk again and reports it
                    traceback.print_exc()
            finally:
                os._exit(status)
        os.close(request_read)
        os.close(reply_write)
        self.pid = pid
        super().__init__(os.fdopen(request_write, "wb"), os.fdopen(reply_read, "rb"))

    def _status(self) -> str:
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        return f"status {os.waitstatus_to_exitcode(status)}" if pid else "still running"

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, _status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return  # already waited for (by _status)
            if pid:
                return
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                return
            time.sleep(0.001)  # a helper ends within milliseconds; a pass waits for it


def forkable() -> bool:
    """Helpers may be forked here: Linux, no other thread in this process, and not turned
    off with ``BATON_INGEST_FORK=0``."""
    return (
        sys.platform.startswith("linux")
        and threading.active_count() == 1
        and os.environ.get("BATON_INGEST_FORK", "1").strip() != "0"
    )


class HelperPool:
    """Up to ``size`` helper processes, kept for one pass or for a watcher's lifetime.

    ``fork()`` (call it before the caller starts threads of its own) forks them at once when
    ``forkable()``; otherwise ``borrow`` spawns them as they are first needed. A helper given
    back alive is kept for the next borrower; ``end_idle`` ends those unused for a while (a
    later burst spawns new ones), ``close()`` ends them all."""

    def __init__(self, store: Store, size: int) -> None:
        self.store = store
        self.size = max(0, size)
        self._idle: list[_Helper] = []
        self._last_used = time.monotonic()
        self._lock = threading.Lock()

    def fork(self, first_chunks: Sequence[list[Item]] = (), outcomes: bool = True) -> HelperPool:
        """Fork the helpers when ``forkable()``. Each of ``first_chunks`` (only given when
        forkable) is a helper's first chunk: it starts on it at once, from its copy of this
        process's memory, and ``share`` collects the answer (with written outcomes only
        when ``outcomes``)."""
        # The parsers are imported here, once: by forked helpers too (before, each imported
        # them at its first chunk, and a watcher's own process at its first change).
        all_formats()
        if self.size and forkable():
            self.store.engine.dispose()  # no connection is carried across the fork
            url = _url(self.store)
            for number in range(self.size):
                chunk = first_chunks[number] if number < len(first_chunks) else None
                first = items_request(chunk, outcomes) if chunk else None
                helper = _ForkedHelper(url, self._idle, first)
                helper.pending = chunk
                self._idle.append(helper)
        return self

    def borrow_pending(self) -> _Helper | None:
        """An idle helper still working on the first chunk it was forked with, if any."""
        with self._lock:
            for helper in self._idle:
                if helper.pending is not None:
                    self._idle.remove(helper)
                    return helper
        return None

    def borrow(self) -> _Helper:
        """An idle helper, or a newly spawned one (raises OSError if it cannot start)."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _SpawnedHelper(_url(self.store))

    def give_back(self, helper: _Helper, alive: bool) -> None:
        if alive:
            with self._lock:
                self._idle.append(helper)
                self._last_used = time.monotonic()
        else:
            helper.close()

    def end_idle(self, after_s: float) -> None:
        """End the kept helpers if none was given back for ``after_s`` seconds: a watcher
        that saw one burst keeps no process (a spawned one holds ~80 MB) for hours."""
        with self._lock:
            if not self._idle or time.monotonic() - self._last_used < after_s:
                return
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.close()

    def __enter__(self) -> HelperPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def share(
    chunks: Sequence[C],
    pool: HelperPool,
    local: Callable[[C], None],
    remote: Callable[[_Helper, C], R],
    take: Callable[[C, R], None],
) -> None:
    """Work through ``chunks`` with the calling thread (``local(chunk)``) and the pool's
    helpers, one thread each (``remote(helper, chunk)``), handing chunks out as they finish.
    ``take(chunk, result)`` runs on the calling thread for every remote result; the chunks of
    a helper that died are done locally at the end."""
    pending = deque(chunks)
    lock = threading.Lock()
    # (chunk, result, ok), or None when a helper thread ends.
    results: queue.Queue[tuple[C, R | None, bool] | None] = queue.Queue()
    stop = threading.Event()

    def next_chunk() -> C | None:
        with lock:
            return pending.popleft() if pending and not stop.is_set() else None

    def helper_loop() -> None:
        helper, alive = pool.borrow_pending(), True
        try:
            if helper is not None and helper.pending is not None:  # forked with a first chunk
                chunk, helper.pending = helper.pending, None
                try:
                    results.put((chunk, helper.reply(), True))  # type: ignore[arg-type]
                except (OSError, ValueError):
                    alive = False
                    results.put((chunk, None, False))  # type: ignore[arg-type]
                    return
            while (chunk := next_chunk()) is not None:
                try:
                    helper = helper or pool.borrow()
                    results.put((chunk, remote(helper, chunk), True))
                except (OSError, ValueError):
                    alive = False
                    results.put((chunk, None, False))  # the helper died: done here instead
                    return
        finally:
            try:
                if helper is not None:
                    pool.give_back(helper, alive)
            finally:
                results.put(None)  # wakes the caller at once: no polling for the last helper

    threads = [
        threading.Thread(target=helper_loop, name=f"baton-ingest-{n}", daemon=True) for n in range(pool.size)
    ]
    for thread in threads:
        thread.start()
    retry: list[C] = []
    ended = 0

    def handle(message: tuple[C, R | None, bool] | None) -> None:
        nonlocal ended
        if message is None:
            ended += 1
        elif not message[2]:
            retry.append(message[0])
        else:
            take(message[0], message[1])  # type: ignore[arg-type]

    try:
        while (chunk := next_chunk()) is not None:
            local(chunk)
            while not results.empty():
                handle(results.get_nowait())
        while ended < len(threads):
            handle(results.get())
        for chunk in retry:
            local(chunk)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def early_chunks(items: Sequence[Item], helpers: int) -> list[list[Item]]:
    """Chunks for ``helpers`` helpers to start on while the walk goes on, from the files
    to read found so far: whole folders (the last folder seen may not be complete yet)."""
    chunks = chunks_by_folder(items, max(1, len(items) // (2 * (helpers + 1))))
    return chunks[: min(helpers, len(chunks) - 1)]


def chunk_size(items: int, processes: int) -> int:
    """About four chunks per process, at most CHUNK_FILES files each."""
    return max(1, min(CHUNK_FILES, items // (4 * processes)))


def ingest_with_helpers(
    store: Store,
    items: Sequence[Item],
    pool: HelperPool,
    summary: IngestSummary,
    step: Callable[[str], None] | None,
    on_outcome: Callable[[FileOutcome], None] | None,
    sizes: list[int] | None = None,
) -> None:
    """Ingest ``items`` with the calling thread and the pool's helper processes (``sizes``:
    ``file_sizes(items)`` when the caller has them already)."""

    def take(chunk: list[Item], reply: dict) -> None:
        for outcome in merge_reply(summary, reply):
            if on_outcome:
                on_outcome(outcome)
        if step:
            for name, _known in chunk:
                step(name)

    processes = pool.size + 1
    if sizes is None:
        sizes = file_sizes(items)
    if sizes is None:
        chunks = chunks_by_folder(items, chunk_size(len(items), processes))
    else:  # few files, some big: about four chunks of equal size per process
        chunks = chunks_by_size(items, sizes, max(1, sum(sizes) // (4 * processes)))
    share(
        chunks,
        pool,
        local=lambda chunk: read_and_write(store, chunk, summary, step, on_outcome),
        remote=lambda helper, chunk: helper.request(items_request(chunk, on_outcome is not None)),
        take=take,
    )

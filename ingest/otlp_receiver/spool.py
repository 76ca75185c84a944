"""The spool: append-only OTLP/JSON Lines files the receiver writes and the watcher reads.

One writer thread does group commit: every request's line waits in a queue, the thread
writes whatever has queued up in one ``write``, calls ``fsync`` once, and only then wakes the
requests, which acknowledge. A request is therefore acknowledged only once its line is on
disk, and parallel exports share one fsync instead of queueing for one each.

Files are named ``traces-<UTC time>-<pid>.jsonl`` (the time to the microsecond, so names
sort by time; readable by their owner only, as prompts travel in spans) and rotated once
they hold ``max_bytes``: a line is never split across files,
and a new file's folder entry is fsynced before the first request written to it is
acknowledged. A failed write (a full disk) is cut back off the file, so no partial line
stays, and the requests waiting for it get the error. One receiver per spool folder, held by
a lock file (``.receiver.lock``, which no scan reads); on start it cuts a partial last line
(a write the receiver was killed in the middle of: never acknowledged) off its own files.
"""

from __future__ import annotations

import fcntl
import os
import queue
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from core.errors import UserError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SPOOL_NAME = re.compile(r"^traces-\d{8}T\d{6}\.\d{6}Z-\d+\.jsonl$")
LOCK_NAME = ".receiver.lock"


def default_spool_dir() -> Path:
    return Path("~/.baton/otlp").expanduser()


class _Pending:
    __slots__ = ("done", "error", "line")

    def __init__(self, line: bytes) -> None:
        self.line = line
        self.done = threading.Event()
        self.error: OSError | None = None


class Spool:
    """Durable appends to rotated spool files. ``append`` blocks until the line is fsynced."""

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._fd = -1
        self._size = 0
        self._last_time: datetime | None = None
        self._lock_fd = -1
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Take the folder (one receiver per spool), repair partial last lines, start writing."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the spool folder {self.folder}: {exc.strerror}") from exc
        self._lock_fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = -1
            raise UserError(f"another baton otlp already writes to {self.folder}") from None
        repair_partial_lines(self.folder)
        self._thread = threading.Thread(target=self._run, name="baton-otlp-spool", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        while True:  # a request that came after the stop: refused, never left waiting
            try:
                late = self._queue.get_nowait()
            except queue.Empty:
                break
            if late is not None:
                late.error = OSError("the receiver is stopping")
                late.done.set()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def append(self, line: bytes) -> None:
        """Append one line (without its newline); returns once it is on disk, or raises OSError."""
        pending = _Pending(line + b"\n")
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if SPOOL_NAME.match(p.name))

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while True:  # everything queued meanwhile goes into the same write and fsync
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            error = None
            try:
                self._write(b"".join(p.line for p in batch))
            except OSError as exc:
                error = exc
            for pending in batch:
                pending.error = error
                pending.done.set()

    def _write(self, data: bytes) -> None:
        if self._fd < 0 or (self._size and self._size + len(data) > self.max_bytes):
            self._rotate()
        start = self._size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError:
            try:  # leave no partial line behind
                os.ftruncate(self._fd, start)
            except OSError:
                self._close_file()  # the next write starts a new file
            raise
        self._size = start + len(data)

    def _rotate(self) -> None:
        self._close_file()
        name, self._last_time = _file_name(self._last_time)
        fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the new name survives a crash with the lines in it
            finally:
                os.close(dir_fd)
        except OSError:
            os.close(fd)
            raise
        self._fd, self._size = fd, 0

    def _close_file(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _file_name(previous: datetime | None) -> tuple[str, datetime]:
    """A new file's name and time: after ``previous`` even if the clock stepped back."""
    now = datetime.now(UTC)
    if previous is not None and now <= previous:
        now = previous + timedelta(microseconds=1)
    return f"traces-{now:%Y%m%dT%H%M%S.%f}Z-{os.getpid()}.jsonl", now


def repair_partial_lines(folder: Path) -> list[Path]:
    """Cut a partial last line off the spool files (a receiver killed mid-write never
    acknowledged it). Returns the files repaired."""
    repaired = []
    for path in sorted(folder.iterdir()):
        if not SPOOL_NAME.match(path.name):
            continue
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                continue
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                continue
            keep = _last_newline_end(handle, size)
            handle.truncate(keep)
            os.fsync(handle.fileno())
            repaired.append(path)
    return repaired


def _last_newline_end(handle: BinaryIO, size: int) -> int:
    """The offset just past the last newline (0 if none)."""
    block = 64 * 1024
    end = size
    while end > 0:
        start = max(0, end - block)
        handle.seek(start)
        chunk = handle.read(end - start)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0

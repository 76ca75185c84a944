"""Paths waiting to be loaded: filled by the observer thread, drained in batches by the watcher.

Each path is due at a time. An event that means "the writer is done" (close after write,
rename) makes it due now; one that means "still being written" (modified) pushes it back
by a settle delay, never beyond ``max_delay`` after it was first queued. The thread takes
every due path at once, after letting a burst gather for a few milliseconds, so that
thousands of files become a few transactions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    due: float
    first: float


class ChangeQueue:
    def __init__(
        self, gather: float = 0.005, max_gather: float = 0.1, max_batch: int = 2000, max_delay: float = 2.0
    ) -> None:
        self.gather = gather  # wait this long for more paths once one is due
        self.max_gather = max_gather  # but never longer than this in all
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._entries: dict[Hashable, _Entry] = {}
        self._condition = threading.Condition()
        self._closed = False
        self._added = 0  # bumps on every put: the thread sees a burst still arriving

    def put(self, path: Hashable, delay: float = 0.0, push_back: bool = False) -> None:
        """Queue ``path`` due in ``delay`` seconds. An earlier due time wins unless
        ``push_back`` (still being written): then the later one does, within max_delay."""
        now = time.monotonic()
        with self._condition:
            entry = self._entries.get(path)
            due = now + delay
            if entry is None:
                self._entries[path] = _Entry(due, now)
            elif push_back:
                entry.due = min(max(entry.due, due), entry.first + self.max_delay)
            else:
                entry.due = min(entry.due, due)
            self._added += 1
            self._condition.notify()

    def __len__(self) -> int:
        with self._condition:
            return len(self._entries)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def get_batch(self, timeout: float | None = None) -> list[Hashable]:
        """Due paths (at most max_batch), waiting up to ``timeout`` for one to become due.
        Returns [] on timeout or once closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while not self._closed:
                now = time.monotonic()
                first_due = min((e.due for e in self._entries.values()), default=None)
                if first_due is not None and first_due <= now:
                    self._gather(now)
                    return self._take(time.monotonic())
                wait = None if first_due is None else first_due - now
                if deadline is not None:
                    remaining = deadline - now
                    if remaining <= 0:
                        return []
                    wait = remaining if wait is None else min(wait, remaining)
                self._condition.wait(wait)
            return []

    def _gather(self, started: float) -> None:
        """Let a burst arrive: while paths keep coming, nap (lock released, not woken by
        every put) up to max_gather in all, or until a full batch is due (paths queued but
        not due yet, say files just created, do not end the wait: a burst moved in would
        otherwise start with the few of its files that were due)."""
        while not self._closed and self._due_count(time.monotonic()) < self.max_batch:
            seen = self._added
            left = started + self.max_gather - time.monotonic()
            if left <= 0:
                return
            self._condition.release()
            try:
                time.sleep(min(self.gather, left))
            finally:
                self._condition.acquire()
            if self._added == seen:
                return

    def _due_count(self, now: float) -> int:
        if len(self._entries) < self.max_batch:
            return 0  # cannot be a full batch: not worth counting
        return sum(1 for entry in self._entries.values() if entry.due <= now)

    def _take(self, now: float) -> list[Hashable]:
        due = [path for path, entry in self._entries.items() if entry.due <= now][: self.max_batch]
        for path in due:
            del self._entries[path]
        return due

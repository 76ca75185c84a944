"""Live ingest: watch agent folders and load what changes, within a fraction of a second.

``Watcher(paths, store).start()`` schedules a watchdog observer on every folder (inotify;
polling for a folder whose inotify watches ran out, or for all with ``poll=True``), then
a thread of its own runs a catch-up scan (``ingest_paths``: what changed while nothing
watched) and afterwards loads the paths the events name, in batches of one transaction.
The observer thread never reads or parses: it only files paths into a ``ChangeQueue``.

When a file is acted on:

* a writer closed it (IN_CLOSE_WRITE) or renamed it into place (incl. over an older file): now;
* it was created or moved in from outside (no close follows a move), or it is modified with
  no close (polling, writers that keep files open): after a short grace or once writes
  settle, and a ``.json`` document only when no process has it open for writing any more
  (``ingest.write_probe``); JSON Lines are read while open, complete lines only, a settle
  after their first change however steadily they are written;
* a SQLite database (or its ``-wal``/``-shm``/``-journal``, mapped to the database): once writes settle;
* it or its folder was deleted or moved away: marked deleted (its records are kept).

Editors' temp and swap files, SQLite side files and our own database are never loaded
(``ingest.discover`` rules). ``stop()`` stops the observers, lets the batch in progress
commit and joins every thread it started.

For the dashboard: ``start_background(paths, db_url)`` starts one watcher per process
(idempotent, thread-safe) and returns it; ``handle.state()`` says what it is doing.
``default_watch_paths()`` is what to watch when the user named nothing.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

from core.db import DatabaseBusy
from core.store import FileOutcome, Store
from core.timeutil import utcnow
from ingest.batch import GONE, write_resilient
from ingest.changes import load_changes
from ingest.content import LOG_SUFFIXES
from ingest.debounce import ChangeQueue
from ingest.discover import NAME_NOT_UTF8, SKIP_DIRS, is_candidate, name_problem, printable, skip_reason
from ingest.fanout import FANOUT_MIN_FILES, HelperPool, fanout_processes
from ingest.loader import ingest_paths
from ingest.observers import FolderState, inotify_observer, schedule
from ingest.write_probe import open_for_writing

log = logging.getLogger("baton.watch")

CREATED_GRACE = 0.05  # a created file with no close yet: moved in from outside, or about to be written
SETTLE = 0.2  # still being written ("modified"): wait for quiet
SQLITE_SETTLE = 0.1
HELPERS_IDLE_S = 300.0  # helper processes unused this long end; the next burst starts new ones
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")  # changes of their database, never files of their own


@dataclass
class WatchState:
    """What the watcher is doing, for a status line or the dashboard."""

    running: bool
    mode: str  # inotify, polling, mixed (some folders poll), stopped
    folders: list[FolderState]
    caught_up: bool  # the first scan is done; what follows is live
    files_loaded: int
    files_failed: int
    files_deleted: int
    last_error: str | None
    warnings: list[str]
    last_change_at: datetime | None


@dataclass
class _Counters:
    loaded: int = 0
    failed: int = 0
    deleted: int = 0
    last_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    last_change_at: datetime | None = None


class _Cancelled(Exception):
    pass


class _Router(FileSystemEventHandler):
    """Runs on the observer thread: turns events into queued paths, nothing more."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        w = self.watcher
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        src_named_badly = name_problem(src) is not None  # nothing below such a name is stored
        if src_named_badly and kind != "moved":  # (a move may bring it to a good name)
            w.badly_named(src)
            return
        if event.is_directory:
            # watchdog itself reports the files of a folder created or moved in (and moved
            # within), file by file; a folder deleted or moved away takes its files along.
            if kind in ("deleted", "moved") and not src_named_badly:
                w.queue.put(("gone", src))
            return
        if kind == "moved":
            dest = os.fsdecode(event.dest_path)
            for path, how in ((src, "gone"), (dest, "now")):
                if name_problem(path) is None:
                    w.file_event(path, how)
                else:
                    w.badly_named(path)
        elif kind in ("closed", "deleted"):
            w.file_event(src, "now")
        elif kind in ("created", "modified"):
            w.file_event(src, kind)


class Watcher:
    """Watch ``paths`` (folders, or single files) and load their changes into ``store``."""

    def __init__(
        self,
        paths: Iterable[Path | str],
        store: Store,
        *,
        poll: bool = False,
        poll_interval: float = 1.0,
        on_outcome: Callable[[FileOutcome], None] | None = None,
        inotify_factory: Callable[[], BaseObserver] = inotify_observer,
        daemon: bool = False,
    ) -> None:
        self.roots = [Path(os.path.realpath(os.path.expanduser(str(p)))) for p in paths]
        self.store = store
        self.poll = poll
        self.poll_interval = poll_interval
        self.on_outcome = on_outcome
        self.inotify_factory = inotify_factory
        self.daemon = daemon
        self.queue = ChangeQueue()
        self.folders: list[FolderState] = []
        self._counters = _Counters()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._caught_up = threading.Event()
        self._observers: list[BaseObserver] = []
        self._thread: threading.Thread | None = None
        self._own_db = store.database_path
        self._badly_named: set[str] = set()
        self._skipped: set[str] = set()  # said once each, until they hold something to read
        # Helper processes a burst of files is shared with, kept while bursts come.
        self._pool = HelperPool(store, fanout_processes(FANOUT_MIN_FILES, store) - 1)
        self.helpers_idle_s = HELPERS_IDLE_S
        self._dir_roots = tuple(str(r).rstrip(os.sep) + os.sep for r in self.roots if not r.is_file())
        self._file_roots = frozenset(str(r) for r in self.roots if r.is_file())

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Watcher:
        """Schedule the observers and start its thread (catch-up scan, then live events)."""
        try:
            self._pool.fork()  # before any thread of ours starts: forked if this process has none
            self._schedule()
            self._thread = threading.Thread(target=self._run, name="baton-watch", daemon=self.daemon)
            self._thread.start()
        except BaseException:
            self.stop()  # no observer thread left running behind a failed start
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; the batch in progress commits; every thread started is joined."""
        self._stopping.set()
        for observer in self._observers:
            observer.stop()
        for observer in self._observers:
            if observer.is_alive():
                observer.join(timeout)
        self._observers.clear()
        self.queue.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._thread is None:
            self._pool.close()  # else the thread closes it as it ends

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping.is_set()

    def wait_caught_up(self, timeout: float | None = None) -> bool:
        return self._caught_up.wait(timeout)

    def state(self) -> WatchState:
        modes = {f.mode for f in self.folders if f.mode != "missing"}
        running = self.running
        if not running:
            mode = "stopped"
        elif len(modes) > 1:
            mode = "mixed"
        else:
            mode = next(iter(modes), "polling" if self.poll else "inotify")
        with self._lock:
            c = self._counters
            return WatchState(
                running=running,
                mode=mode,
                folders=[FolderState(f.path, f.mode) for f in self.folders],
                caught_up=self._caught_up.is_set(),
                files_loaded=c.loaded,
                files_failed=c.failed,
                files_deleted=c.deleted,
                last_error=c.last_error,
                warnings=list(c.warnings),
                last_change_at=c.last_change_at,
            )

    # -- observers -----------------------------------------------------------------------
    def _warn(self, message: str) -> None:
        log.warning(message)
        with self._lock:
            self._counters.warnings.append(message)

    def _schedule(self) -> None:
        self._observers, self.folders = schedule(
            self.roots,
            _Router(self),
            poll=self.poll,
            poll_interval=self.poll_interval,
            inotify_factory=self.inotify_factory,
            warn=self._warn,
        )

    # -- events (observer thread) -------------------------------------------------------
    def accepts(self, path: str) -> bool:
        """A candidate file below a watched folder (or a watched file), not our own database."""
        if path in self._file_roots:
            return True
        root = next((r for r in self._dir_roots if path.startswith(r)), None)
        if root is None or not is_candidate(path):
            return False
        if self._own_db is not None and path == self._own_db:
            return False
        parts = path[len(root) :].split(os.sep)[:-1]
        return not any(part in SKIP_DIRS for part in parts)

    def badly_named(self, path: str) -> None:
        """A file whose name cannot be recorded: say so once, load nothing."""
        if path not in self._badly_named and self.accepts(path):
            self._badly_named.add(path)
            self._warn(f"{printable(path)}: {NAME_NOT_UTF8}")

    def file_event(self, path: str, how: str) -> None:
        """Queue ``path`` for an event: ``now`` (closed, renamed, deleted), ``gone`` (moved
        away), ``created`` or ``modified``."""
        database = _database_of(path)
        if database is not None:
            if self.accepts(database):
                self.queue.put(("file", database), SQLITE_SETTLE, push_back=True)
            return
        if not self.accepts(path):
            return
        if how in ("now", "gone"):
            self.queue.put(("file", path))
        elif how == "created":
            self.queue.put(("settle", path), CREATED_GRACE)
        elif path.endswith(SQLITE_SUFFIXES):
            self.queue.put(("file", path), SQLITE_SETTLE, push_back=True)
        elif path.endswith(LOG_SUFFIXES):
            # JSON Lines are read complete lines only, while written: a log written steadily
            # (a spool taking a request every few ms) is read SETTLE after its first change,
            # not once it goes quiet or max_delay later. What arrives meanwhile is one read.
            self.queue.put(("settle", path), SETTLE)
        else:
            self.queue.put(("settle", path), SETTLE, push_back=True)

    # -- its thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            with self.store.background_wal_checkpoints():
                self._watch()
        finally:
            self._pool.close()

    def _watch(self) -> None:
        try:
            self._catch_up()
        except _Cancelled:
            return
        except Exception as exc:  # the database is down, say: say so and go on watching
            self._error(f"catch-up scan failed: {exc.__class__.__name__}: {exc}")
        finally:
            self._caught_up.set()
        while not self._stopping.is_set():
            batch = self.queue.get_batch(timeout=0.5)
            if not batch:
                self._pool.end_idle(self.helpers_idle_s)
            else:
                try:
                    self._load(batch)
                except DatabaseBusy as exc:  # another process holds the lock: try again later
                    self._error(str(exc))
                    for item in batch:
                        self.queue.put(item, SETTLE, push_back=True)
                except Exception as exc:
                    self._error(f"loading {len(batch)} changed paths failed: {exc.__class__.__name__}: {exc}")

    def _catch_up(self) -> None:
        def progress(_done: int, _total: int, _path: str) -> None:
            if self._stopping.is_set():
                raise _Cancelled  # batches written so far are whole; the rest waits for next time

        roots = [r for r in self.roots if r.exists()]
        summary = ingest_paths(roots, self.store, progress=progress, on_outcome=self._report, pool=self._pool)
        for path in summary.busy:
            self.queue.put(("file", path), SETTLE, push_back=True)
        for failure in summary.failures:
            if failure["error"] == NAME_NOT_UTF8:  # not recorded in the database: say it here
                self._warn(f"{failure['path']}: {NAME_NOT_UTF8}")
        for skip in summary.skipped:
            self._skipped.add(skip["path"])
            self._warn(f"skipped: {skip['path']}: {skip['error']}")

    def _load(self, batch: list[Hashable]) -> None:
        files: list[str] = []
        settle: list[str] = []
        gone: list[str] = []
        for kind, path in batch:  # type: ignore[misc]
            {"file": files, "settle": settle, "gone": gone}[kind].append(path)
        closed = set(files)
        for path in settle:
            if path in closed:
                continue
            if path.endswith(".json") and open_for_writing(path):
                # A document still open for writing: its close (or the next look) will do.
                # JSON Lines are read while open: only complete lines are taken.
                self.queue.put(("settle", path), SETTLE, push_back=True)
            else:
                files.append(path)
        result = load_changes(self.store, self._readable(files), gone, pool=self._pool)
        for path in result.retry:
            self.queue.put(("file", path), SETTLE, push_back=True)
        for outcome in result.written:
            self._report(outcome)

    def _readable(self, paths: list[str]) -> list[str]:
        """``paths`` without those that hold nothing to read (a FIFO, a device, a dangling
        symlink: ``discover.skip_reason``), skipped as the walk skips them: said once, never
        recorded; one loaded before that is now a dangling symlink is gone, so marked deleted."""
        readable: list[str] = []
        dangling: list[str] = []
        for path in paths:
            why = skip_reason(path)
            if why is None:
                readable.append(path)
                self._skipped.discard(path)
                continue
            if path not in self._skipped:
                self._skipped.add(path)
                self._warn(f"skipped: {printable(path)}: {why}")
            if not os.path.exists(path):
                dangling.append(path)
        if dangling:
            known = self.store.known_files(dangling)
            deleted = [
                FileOutcome(path=path, outcome="deleted", error=GONE)
                for path, info in known.items()
                if info.outcome != "deleted"
            ]
            if deleted:
                write_resilient(self.store, deleted)
                for outcome in deleted:
                    self._report(outcome)
        return readable

    def _report(self, outcome: FileOutcome) -> None:
        with self._lock:
            c = self._counters
            if outcome.outcome == "loaded":
                c.loaded += 1
            elif outcome.outcome == "failed":
                c.failed += 1
            elif outcome.outcome == "deleted":
                c.deleted += 1
            c.last_change_at = utcnow()
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception as exc:  # a broken printer (closed pipe) must not stop loading
                self._error(f"reporting {outcome.path} failed: {exc}")

    def _error(self, message: str) -> None:
        log.error(message)
        with self._lock:
            self._counters.last_error = message


def _database_of(path: str) -> str | None:
    """``x.db`` for ``x.db-wal``, ``x.db-shm`` or ``x.db-journal``; None for anything else."""
    for suffix in SIDE_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return None


# -- once per process, for the dashboard ---------------------------------------------------
WatcherHandle = Watcher
_background: Watcher | None = None
_background_lock = threading.Lock()


def default_watch_paths() -> list[Path]:
    """What the dashboard watches: ``BATON_WATCH`` (an os.pathsep-separated list, given
    folders kept even if missing so the page can say so) or else the repo's ``sample_runs/``
    plus the frameworks' default folders that exist here: ``$CHECKPOINT_DIR`` or
    ``~/.agent-harness/checkpoints`` (react-agent-harness), ``./.loopengt/`` (loopengt),
    ``$CODEX_HOME/sessions`` or ``~/.codex/sessions`` (Codex CLI), ``$GEMINI_CLI_HOME/.gemini/tmp``
    or ``~/.gemini/tmp`` (Gemini CLI chats) and
    ``~/.claude/projects`` or ``$CLAUDE_CONFIG_DIR/projects`` (Claude Code)."""
    configured = os.environ.get("BATON_WATCH")
    if configured:
        return [Path(p).expanduser() for p in configured.split(os.pathsep) if p.strip()]
    from ingest.parsers.claude_code.paths import default_folders as claude_code_folders

    candidates = [
        Path(__file__).resolve().parent.parent / "sample_runs",
        Path(os.environ.get("CHECKPOINT_DIR") or "~/.agent-harness/checkpoints").expanduser(),
        Path.cwd() / ".loopengt",
        Path(os.environ.get("CODEX_HOME") or "~/.codex").expanduser() / "sessions",  # Codex CLI
        Path(os.environ.get("GEMINI_CLI_HOME") or "~").expanduser() / ".gemini" / "tmp",  # Gemini CLI chats
        *claude_code_folders(),  # ~/.claude/projects, or $CLAUDE_CONFIG_DIR/projects
    ]
    unique = list(dict.fromkeys(p.resolve() for p in candidates))
    return [p for p in unique if p.exists()]


def start_background(paths: Iterable[Path | str] | None = None, db_url: str | None = None) -> WatcherHandle:
    """Start the process's one background watcher (daemon threads; stopped at exit) or
    return the one already running, whatever paths are asked for the second time.
    ``paths`` default to ``default_watch_paths()``, ``db_url`` to BATON_DB_URL or
    ~/.baton/baton.db."""
    global _background
    with _background_lock:
        if _background is not None and _background.running:
            return _background
        from core.db import make_engine

        watch = list(paths) if paths is not None else default_watch_paths()
        watcher = Watcher(watch, Store(make_engine(db_url)), daemon=True)
        watcher.start()
        if _background is None:
            atexit.register(_stop_background)
        _background = watcher
        return watcher


def _stop_background() -> None:
    with _background_lock:
        if _background is not None:
            _background.stop(timeout=5)

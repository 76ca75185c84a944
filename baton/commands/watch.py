"""``baton watch PATH...``: catch up, then load changes live until Ctrl-C or SIGTERM.

Prints one line per file loaded, appended to, failed or deleted (none with ``--quiet``);
what is watched and how (inotify or polling) goes to stderr. Stopping lets the batch in
progress commit and joins every thread: nothing is left half-written.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from baton.output import add_db_option, error_line, escape

if TYPE_CHECKING:
    from core.store import FileOutcome

HELP = "load agent files now and again whenever they change"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folders or files to watch")
    add_db_option(parser)
    parser.add_argument("--poll", action="store_true", help="poll instead of inotify (network filesystems)")
    parser.add_argument("--quiet", action="store_true", help="print no line per file")


def describe(outcome: FileOutcome) -> str | None:
    """The line printed for an outcome (None for ignored files)."""
    parsed = outcome.parsed
    if outcome.outcome == "loaded" and parsed is not None:
        verb = "appended" if outcome.append else "loaded"
        return f"{verb} {escape(outcome.path)}: {len(parsed.checkpoints)} checkpoints, {len(parsed.events)} events"
    if outcome.outcome == "failed":
        return f"failed {error_line(outcome.path, outcome.error_line, outcome.error)}"
    if outcome.outcome == "deleted":
        return f"deleted {escape(outcome.path)} (its records are kept)"
    return None


def run(args: argparse.Namespace) -> int:
    from baton.paths import unreachable
    from core.db import make_engine
    from core.errors import UserError
    from core.store import Store
    from ingest.watcher import Watcher

    problem = unreachable(args.paths)
    if problem:
        raise UserError(problem)
    store = Store(make_engine(args.db))
    print_lock = threading.Lock()

    def report(outcome: FileOutcome) -> None:
        line = None if args.quiet else describe(outcome)
        if line is not None:
            with print_lock:
                print(line, flush=True)

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    watcher = Watcher(args.paths, store, poll=args.poll, on_outcome=report)
    try:
        watcher.start()
        for folder in watcher.state().folders:
            print(f"watching {escape(folder.path)} ({folder.mode})", file=sys.stderr, flush=True)
        while not stop.wait(0.25):
            pass
    finally:
        watcher.stop()
        store.engine.dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    state = watcher.state()
    print(
        f"stopped: {state.files_loaded} loaded, {state.files_failed} failed, {state.files_deleted} deleted",
        file=sys.stderr,
        flush=True,
    )
    return 0

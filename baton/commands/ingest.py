"""``baton ingest PATH...``: load agent files once, with progress and a summary."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from baton.output import add_db_option, error_line, print_json

HELP = "load agent checkpoint and trace files into the database"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders to read")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


class ProgressBar:
    """A one-line bar on stderr, drawn at most ten times a second, only on a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int, path: str) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and done != total):
            return
        self.last = now
        filled = int(30 * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} files")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")


def run(args: argparse.Namespace) -> int:
    from baton.paths import unreachable
    from core.db import make_engine
    from core.errors import UserError
    from core.store import Store
    from ingest.loader import ingest_paths

    problem = unreachable(args.paths)
    if problem:
        raise UserError(problem)
    store = Store(make_engine(args.db))
    bar = ProgressBar()
    try:
        # A bar needs the total up front; without one the helpers start while the walk goes on.
        progress = bar if bar.enabled else None
        roots = [p.resolve() for p in args.paths]
        summary = ingest_paths(roots, store, progress=progress)
    finally:
        bar.close()
    if args.json:
        print_json(summary.as_dict())
    else:
        s = summary
        bad = (
            f" ({s.bad_line_count} bad line{'s' if s.bad_line_count != 1 else ''} skipped)"
            if s.bad_line_count
            else ""
        )
        print(
            f"{s.files_seen} files seen: {s.files_loaded} loaded{bad}, {s.files_unchanged} unchanged, "
            f"{s.files_ignored} ignored, {s.files_failed} failed"
            + (f", {s.files_skipped} skipped" if s.files_skipped else "")
        )
        print(f"{s.runs} runs, {s.checkpoints} checkpoints, {s.events} events in {s.seconds:.2f} s")
    for failure in summary.failures:
        print(f"failed: {error_line(failure['path'], failure['line'], failure['error'])}", file=sys.stderr)
    for skip in summary.skipped:  # a FIFO, a device, a dangling symlink: nothing to read
        print(f"skipped: {error_line(skip['path'], None, skip['error'])}", file=sys.stderr)
    for bad in summary.bad_lines:  # the file loaded around them; `baton errors` lists them later
        print(f"bad line: {error_line(bad['path'], bad['line'], bad['error'])}", file=sys.stderr)
    for warning in summary.warnings:  # loaded, with a field not stored, say; `baton errors` too
        print(f"warning: {error_line(warning['path'], warning['line'], warning['error'])}", file=sys.stderr)
    # Exit 1 when a file failed, or when every path named held nothing to read.
    nothing_named = {str(root) for root in roots} <= {skip["path"] for skip in summary.skipped}
    return 1 if summary.files_failed or nothing_named else 0

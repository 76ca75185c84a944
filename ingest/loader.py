"""A whole ingest pass: walk the roots, plan what to read, read and write it, mark what vanished.

Re-reading an unchanged file costs a stat (size and mtime match) or, when only the mtime
moved, a read and a hash. Files are read and written in whole-file batches
(``ingest.batch``); many files to read are shared with helper processes (``ingest.fanout``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.store import FileOutcome, KnownFile, Store
from ingest import fanout  # as a module: a pass reads FANOUT_MIN_FILES, early_chunks as it starts
from ingest.batch import GONE, IngestSummary, Item, read_and_write, write_resilient
from ingest.discover import name_problem, printable, walk_names
from ingest.gc_pause import collector_paused
from ingest.reading import Unstable, read_file, unchanged_json

# read_file and Unstable stay importable from here, where callers have long found them.
__all__ = ["IngestSummary", "Unstable", "ingest_paths", "read_file"]


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    progress: Callable[[int, int, str], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
    pool: fanout.HelperPool | None = None,
) -> IngestSummary:
    """Ingest every candidate file below ``paths``. ``progress(files_done, files_total,
    path)`` is called after each file; ``on_outcome(outcome)`` after each written outcome
    (loaded, ignored, failed, deleted) once its batch is committed. Many files are shared
    with helper processes: ``pool``'s (a watcher keeps one), else the pass's own."""
    started = time.perf_counter()
    summary = IngestSummary()
    own_pool: fanout.HelperPool | None = None

    def start_helpers(items: list[Item]) -> int:
        """Fork the helpers while the walk goes on, each with a first chunk of ``items``;
        returns how many of them were handed out."""
        nonlocal own_pool
        wanted = fanout.fanout_processes(len(items), store) - 1
        if wanted <= 0 or not fanout.forkable():
            return 0
        chunks = fanout.early_chunks(items, wanted)
        own_pool = fanout.HelperPool(store, wanted).fork(chunks, outcomes=on_outcome is not None)
        return sum(len(chunk) for chunk in chunks)

    with collector_paused():
        early = (fanout.FANOUT_MIN_FILES, start_helpers) if pool is None else None
        try:  # helpers forked during the walk end with the pass, however it ends
            plan = _plan(paths, store, summary, progress, early)
            if own_pool is None:  # nothing handed out yet: a few big files may be worth sharing
                plan.sizes = fanout.file_sizes(plan.to_read)
            helpers_wanted = fanout.fanout_processes(len(plan.to_read), store, sum(plan.sizes or ())) - 1
            if own_pool is not None:
                pool = own_pool
            elif pool is None and helpers_wanted:
                # Before this pass starts a thread of its own: the helpers may be forked.
                own_pool = pool = fanout.HelperPool(store, helpers_wanted).fork()
            sharing = pool if helpers_wanted and pool is not None and pool.size else None
            with store.background_wal_checkpoints():
                _ingest_planned(plan, store, summary, sharing, progress, on_outcome)
        finally:
            if own_pool is not None:
                own_pool.close()
    summary.files_seen += summary.files_skipped  # after the pass: progress counts files read
    summary.runs = len(summary.touched_runs)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


@dataclass
class _Plan:
    roots: list[Path]
    known: dict[str, KnownFile]
    seen: set[str]
    files: int  # candidates below the roots
    to_read: list[Item]  # the candidates not known to be unchanged
    handed_out: int = 0  # of to_read, the first ones given to helpers during the walk
    sizes: list[int] | None = None  # of to_read's files, when fewer than FANOUT_MIN_FILES


def _plan(
    paths: Iterable[Path],
    store: Store,
    summary: IngestSummary,
    progress: Callable[[int, int, str], None] | None,
    early: tuple[int, Callable[[list[Item]], int]] | None = None,
) -> _Plan:
    """Walk the roots; count the JSON files whose size and mtime are as stored as unchanged.
    Relative roots are made absolute, as the CLI and the watcher do: a file is recorded by
    one path, whatever the folder the pass ran from.

    With ``early`` = (n, start): once n files to read are found, ``start(to_read)`` may
    hand the first of them to helpers, which work while the walk goes on. A pass that
    reports progress lists every file before it looks at any (its total must be known), so
    its helpers start only after the listing."""
    roots = [Path(p).resolve() for p in paths]
    known = _known_below(store, roots)
    seen: set[str] = set()
    own_database = store.database_path
    own_ending = "/" + os.path.basename(own_database) if own_database else None  # names are absolute

    def skipped(name: str, why: str) -> None:  # never read or recorded; counted and said
        summary.files_skipped += 1
        summary.skipped.append({"path": printable(name), "error": why})

    candidates: Iterable[str] = (
        name
        for name in walk_names(roots, skipped)
        if own_ending is None or not name.endswith(own_ending) or os.path.realpath(name) != own_database
    )
    total = 0  # known up front only when progress is reported
    if progress is not None:
        candidates = list(candidates)
        total = len(candidates)
    to_read: list[Item] = []
    handed_out = 0
    for name in candidates:
        seen.add(name)
        summary.files_seen += 1
        problem = name_problem(name)
        if problem is not None:  # reported, never read or stored (its name cannot be)
            summary.files_failed += 1
            summary.failures.append({"path": printable(name), "line": None, "error": problem})
            if progress:
                progress(summary.files_seen - len(to_read), total, printable(name))
            continue
        previous = known.get(name)
        if previous is not None and unchanged_json(name, previous):
            summary.files_unchanged += 1
            if progress:
                progress(summary.files_seen - len(to_read), total, name)
            continue
        to_read.append((name, previous))
        if early is not None and len(to_read) == early[0]:
            handed_out = early[1](to_read)
            early = None
    return _Plan(roots, known, seen, summary.files_seen, to_read, handed_out)


def _ingest_planned(
    plan: _Plan,
    store: Store,
    summary: IngestSummary,
    pool: fanout.HelperPool | None,
    progress: Callable[[int, int, str], None] | None,
    on_outcome: Callable[[FileOutcome], None] | None,
) -> None:
    done = plan.files - len(plan.to_read)

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, plan.files, name)

    if pool is not None:
        fanout.ingest_with_helpers(
            store,
            plan.to_read[plan.handed_out :],
            pool,
            summary,
            step,
            on_outcome,
            plan.sizes if not plan.handed_out else None,
        )
    else:
        read_and_write(store, plan.to_read, summary, step, on_outcome)
    vanished = _vanished(plan.roots, plan.known, plan.seen)
    summary.touched_runs |= write_resilient(store, vanished, summary)
    if on_outcome:
        for outcome in vanished:
            on_outcome(outcome)


def _known_below(store: Store, roots: list[Path]) -> dict[str, KnownFile]:
    """What the database knows of the files below ``roots`` (not of every file it ever saw:
    adding one small folder to a database of 100k files reads only that folder's rows)."""
    known: dict[str, KnownFile] = {}
    for root in roots:
        if root.is_dir():
            known |= store.known_files(under=str(root))
        else:
            known |= store.known_files([str(root)])
    return known


def _vanished(roots: list[Path], known: dict[str, KnownFile], seen: set[str]) -> list[FileOutcome]:
    """Files loaded before below these roots that are gone now: marked deleted, records kept."""
    prefixes = [str(root) if root.is_file() else str(root).rstrip("/") + "/" for root in roots]
    return [
        FileOutcome(path=path, outcome="deleted", error=GONE)
        for path, info in known.items()
        if path not in seen
        and info.outcome != "deleted"
        and any(path == p or path.startswith(p) for p in prefixes)
        and not Path(path).exists()
    ]

"""Files to outcomes, outcomes to the store, in batches: the ingest pass.

Re-reading an unchanged file costs a stat (size and mtime match) or, when only the mtime
moved, a read and a hash. Every failure becomes a recorded outcome that names the file,
the line where known, and what is wrong; nothing stops the pass. Many files to read are
shared with helper processes (``ingest.fanout``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.db import DatabaseBusy, busy_timeout_s, is_lock_timeout
from core.store import FileOutcome, KnownFile, Store
from ingest.discover import name_problem, printable, walk_names
from ingest.gc_pause import collector_paused
from ingest.reading import Unstable, max_text_bytes, read_file, unchanged_json

if TYPE_CHECKING:
    from ingest.fanout import HelperPool

__all__ = ["GONE", "IngestSummary", "Unstable", "ingest_paths", "read_file", "write_resilient"]

BATCH_FILES = 2000
BATCH_RECORDS = 20000
GONE = "file no longer exists; its records are kept"

Item = tuple[str, KnownFile | None]  # a file to read, with what is known of it


@dataclass
class IngestSummary:
    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_ignored: int = 0
    files_failed: int = 0
    runs: int = 0
    checkpoints: int = 0
    events: int = 0
    seconds: float = 0.0
    failures: list[dict] = field(default_factory=list)
    touched_runs: set[str] = field(default_factory=set)
    busy: list[str] = field(default_factory=list)  # kept changing while read: not loaded yet

    def as_dict(self) -> dict:
        keys = (
            "files_seen",
            "files_loaded",
            "files_unchanged",
            "files_ignored",
            "files_failed",
            "runs",
            "checkpoints",
            "events",
            "seconds",
        )
        return {key: getattr(self, key) for key in keys}


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    progress: Callable[[int, int, str], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
    pool: HelperPool | None = None,
) -> IngestSummary:
    """Ingest every candidate file below ``paths``. ``progress(files_done, files_total,
    path)`` is called after each file; ``on_outcome(outcome)`` after each written outcome
    (loaded, ignored, failed, deleted) once its batch is committed. Many files are shared
    with helper processes: ``pool``'s (a watcher keeps one), else the pass's own."""
    from ingest.fanout import FANOUT_MIN_FILES, HelperPool, early_chunks, fanout_workers, forkable

    started = time.perf_counter()
    summary = IngestSummary()
    own_pool: HelperPool | None = None

    def start_helpers(items: list[Item]) -> int:
        """Fork the helpers while the walk goes on, each with a first chunk of ``items``;
        returns how many of them were handed out."""
        nonlocal own_pool
        wanted = fanout_workers(len(items), store) - 1
        if wanted <= 0 or not forkable():
            return 0
        chunks = early_chunks(items, wanted)
        own_pool = HelperPool(store, wanted).fork(chunks, outcomes=on_outcome is not None)
        return sum(len(chunk) for chunk in chunks)

    with collector_paused():
        early = (FANOUT_MIN_FILES, start_helpers) if pool is None else None
        try:  # helpers forked during the walk end with the pass, however it ends
            plan = _plan(paths, store, summary, progress, early)
            helpers_wanted = fanout_workers(len(plan.to_read), store) - 1
            if own_pool is not None:
                pool = own_pool
            elif pool is None and helpers_wanted:
                # Before this pass starts a thread of its own: the helpers may be forked.
                own_pool = pool = HelperPool(store, helpers_wanted).fork()
            sharing = pool if helpers_wanted and pool is not None and pool.size else None
            with store.background_checkpoints():
                _ingest_planned(plan, store, summary, sharing, progress, on_outcome)
        finally:
            if own_pool is not None:
                own_pool.close()
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
    candidates: Iterable[str] = (
        name
        for name in walk_names(roots)
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
    pool: HelperPool | None,
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
        from ingest.fanout import ingest_in_workers

        ingest_in_workers(store, plan.to_read[plan.handed_out :], pool, summary, step, on_outcome)
    else:
        read_and_write(store, plan.to_read, summary, step, on_outcome)
    vanished = _vanished(plan.roots, plan.known, plan.seen)
    summary.touched_runs |= write_resilient(store, vanished, summary)
    if on_outcome:
        for outcome in vanished:
            on_outcome(outcome)


def read_and_write(
    store: Store,
    items: Iterable[Item],
    summary: IngestSummary,
    step: Callable[[str], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> None:
    """Read ``(name, known)`` items and write their outcomes in batches, counting into
    ``summary``; ``step(name)`` after each file, ``on_outcome`` after each written outcome."""
    batch: list[FileOutcome] = []
    pending_records = 0
    max_text = max_text_bytes()

    def flush() -> None:
        nonlocal batch, pending_records
        written = [o for o in batch if o.outcome != "unchanged"]
        summary.touched_runs |= write_resilient(store, written, summary)
        if on_outcome:
            for outcome in written:
                on_outcome(outcome)
        batch, pending_records = [], 0

    for name, previous in items:
        try:
            outcome = read_file(name, previous, max_text)
        except Unstable:
            summary.busy.append(name)
            if step:
                step(name)
            continue
        if outcome is None or outcome.outcome == "unchanged":
            summary.files_unchanged += 1
        else:
            _count(summary, outcome)
        if outcome is not None:
            batch.append(outcome)
            parsed = outcome.parsed
            if parsed is not None:
                pending_records += len(parsed.checkpoints) + len(parsed.events) + len(parsed.runs)
        if len(batch) >= BATCH_FILES or pending_records >= BATCH_RECORDS:
            flush()
        if step:
            step(name)
    flush()


def write_resilient(
    store: Store, outcomes: list[FileOutcome], summary: IngestSummary | None = None
) -> set[str]:
    """Write a batch; if the database refuses it, write file by file so that one bad file
    (say, a NUL character PostgreSQL will not store) fails alone with a clear reason. A file
    the database refused is replaced in ``outcomes`` by its failed outcome."""
    try:
        return store.write_batch(outcomes)
    except Exception as exc:
        _raise_if_locked(exc)
        if len(outcomes) == 1 and outcomes[0].outcome != "loaded":
            raise
    touched: set[str] = set()
    for index, outcome in enumerate(outcomes):
        try:
            touched |= store.write_batch([outcome])
        except Exception as exc:
            _raise_if_locked(exc)
            reason = str(exc).splitlines()[0][:300]
            failed = FileOutcome(
                path=outcome.path,
                outcome="failed",
                size=outcome.size,
                mtime_ns=outcome.mtime_ns,
                content_hash=outcome.content_hash,
                error=f"cannot store: {reason}",
            )
            store.write_batch([failed])
            outcomes[index] = failed
            if summary is not None and outcome.outcome == "loaded":
                summary.files_loaded -= 1
                summary.files_failed += 1
                summary.failures.append({"path": outcome.path, "line": None, "error": failed.error})
    return touched


def _raise_if_locked(exc: Exception) -> None:
    """A lock held past the busy timeout is no fault of any file: writing file by file would
    wait again for each, so the pass stops with one clear reason (nothing is lost: files not
    written are read again next time)."""
    if is_lock_timeout(exc):
        raise DatabaseBusy(
            f"the database is locked: another process held its write lock for more than "
            f"{busy_timeout_s():g} s; the files not written yet are read on the next ingest "
            "(BATON_BUSY_TIMEOUT_S sets the wait)"
        ) from exc


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


def _count(summary: IngestSummary, outcome: FileOutcome) -> None:
    if outcome.outcome == "loaded":
        summary.files_loaded += 1
        parsed = outcome.parsed
        assert parsed is not None
        summary.checkpoints += len(parsed.checkpoints)
        summary.events += len(parsed.events)
    elif outcome.outcome == "ignored":
        summary.files_ignored += 1
    elif outcome.outcome == "failed":
        summary.files_failed += 1
        summary.failures.append({"path": outcome.path, "line": outcome.error_line, "error": outcome.error})

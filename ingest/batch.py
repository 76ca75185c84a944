"""Read files and write their outcomes in whole-file batches: the loop every ingest runs.

A whole pass (``ingest.loader``), a watcher's changes (``ingest.changes``) and a helper
process's share of either (``ingest.worker``) all read here and write here. Every failure
becomes a recorded outcome that names the file, the line where known, and what is wrong;
nothing stops the loop but a database that stays locked (``DatabaseBusy``). Each batch is
one transaction, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.db import DatabaseBusy, busy_timeout_s, is_lock_timeout
from core.errors import is_disk_full
from core.outcomes import warning_parts
from core.store import FileOutcome, KnownFile, Store
from ingest.reading import Unstable, max_text_bytes, read_file

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
    files_skipped: int = 0  # held nothing to read (a FIFO, a dangling symlink...): see skipped
    runs: int = 0
    checkpoints: int = 0
    events: int = 0
    seconds: float = 0.0
    failures: list[dict] = field(default_factory=list)
    # Lines of loaded files that are not JSON, skipped (path, line, error), the first of each file's.
    bad_lines: list[dict] = field(default_factory=list)
    bad_line_count: int = 0  # all of them
    # Warnings of loaded files (a field not stored, a value read as infinity): path, line, error.
    warnings: list[dict] = field(default_factory=list)
    touched_runs: set[str] = field(default_factory=set)
    busy: list[str] = field(default_factory=list)  # kept changing while read: not loaded yet
    skipped: list[dict] = field(default_factory=list)  # {"path", "error"}: why each was skipped

    def as_dict(self) -> dict:
        keys = (
            "files_seen",
            "files_loaded",
            "files_unchanged",
            "files_ignored",
            "files_failed",
            "files_skipped",
            "runs",
            "checkpoints",
            "events",
            "seconds",
        )
        return {key: getattr(self, key) for key in keys}


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


@dataclass
class ChangeResult:
    written: list[FileOutcome] = field(default_factory=list)  # loaded, ignored, failed, deleted
    retry: list[str] = field(default_factory=list)
    touched_runs: set[str] = field(default_factory=set)


def write_changes(store: Store, paths: list[str], gone_folders: Iterable[str]) -> ChangeResult:
    """Read changed ``paths`` and write what changed in one batch, one transaction. A path
    gone before it could be read, and every file recorded below a folder of
    ``gone_folders`` that is gone, is marked deleted (its records are kept); a file that
    kept changing while it was read is handed back in ``retry``."""
    result = ChangeResult()
    known = store.known_files(paths)
    outcomes: list[FileOutcome] = []
    for name in paths:
        info = known.get(name)
        try:
            outcome = read_file(name, info)
        except Unstable:
            result.retry.append(name)
            continue
        if outcome is not None and outcome.outcome == "failed" and not os.path.lexists(name):
            # Deleted (or moved away) before it could be read: a deletion, not a failure.
            if info is not None and info.outcome != "deleted":
                outcomes.append(FileOutcome(path=name, outcome="deleted", error=GONE))
            continue
        if outcome is not None and outcome.outcome != "unchanged":
            outcomes.append(outcome)
    for folder in gone_folders:
        if os.path.isdir(folder):
            continue
        for name, info in store.known_files(under=folder).items():
            if info.outcome != "deleted" and not os.path.lexists(name):
                outcomes.append(FileOutcome(path=name, outcome="deleted", error=GONE))
    outcomes = list({o.path: o for o in outcomes}.values())
    if outcomes:
        result.touched_runs = write_resilient(store, outcomes)
    result.written = outcomes
    return result


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
                _uncount(summary, outcome)
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
    if is_disk_full(exc):  # no fault of any file either: the pass stops, the command says why
        raise exc


def _count(summary: IngestSummary, outcome: FileOutcome) -> None:
    if outcome.outcome == "loaded":
        summary.files_loaded += 1
        parsed = outcome.parsed
        assert parsed is not None
        summary.checkpoints += len(parsed.checkpoints)
        summary.events += len(parsed.events)
        if outcome.bad_line_count:
            summary.bad_line_count += outcome.bad_line_count
            summary.bad_lines.extend(
                {"path": outcome.path, "line": line, "error": f"skipped: {reason}"}
                for line, reason in outcome.bad_lines
            )
        if outcome.warnings:
            summary.warnings.extend(_warning(outcome.path, warning) for warning in outcome.warnings)
    elif outcome.outcome == "ignored":
        summary.files_ignored += 1
    elif outcome.outcome == "failed":
        summary.files_failed += 1
        summary.failures.append({"path": outcome.path, "line": outcome.error_line, "error": outcome.error})


def _uncount(summary: IngestSummary, outcome: FileOutcome) -> None:
    """Take back what ``_count`` counted of a loaded file the database then refused: the
    summary counts only records that were stored."""
    summary.files_loaded -= 1
    parsed = outcome.parsed
    if parsed is not None:
        summary.checkpoints -= len(parsed.checkpoints)
        summary.events -= len(parsed.events)
    if outcome.bad_line_count:
        summary.bad_line_count -= outcome.bad_line_count
        summary.bad_lines = [bad for bad in summary.bad_lines if bad["path"] != outcome.path]
    if outcome.warnings:
        summary.warnings = [warning for warning in summary.warnings if warning["path"] != outcome.path]


def _warning(path: str, warning: str) -> dict:
    line, text = warning_parts(path, warning)
    return {"path": path, "line": line, "error": text}

"""Files to outcomes, outcomes to the store, in batches: the ingest pass.

Re-reading an unchanged file costs a stat (size and mtime match) or, when only the mtime
moved, a read and a hash. Every failure becomes a recorded outcome that names the file,
the line where known, and what is wrong; nothing stops the pass.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.store import FileOutcome, Store
from ingest.content import decode
from ingest.discover import walk
from ingest.errors import ParseError
from ingest.registry import detect_format

DEFAULT_MAX_FILE_MB = 64
MAX_SQLITE_BYTES = 1024 * 1024 * 1024
BATCH_FILES = 2000
BATCH_RECORDS = 20000


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

    def as_dict(self) -> dict:
        keys = ("files_seen", "files_loaded", "files_unchanged", "files_ignored", "files_failed",
                "runs", "checkpoints", "events", "seconds")
        return {key: getattr(self, key) for key in keys}


def max_text_bytes() -> int:
    """Largest JSON/JSONL file read whole (BATON_MAX_FILE_MB, default 64 MB); SQLite
    databases may be up to 1 GiB."""
    try:
        return int(float(os.environ.get("BATON_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_FILE_MB * 1024 * 1024


JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})


def _signature(path: Path, info: os.stat_result) -> tuple[int, int]:
    """Size and mtime; a SQLite database also changes through its -wal file."""
    size, mtime = info.st_size, info.st_mtime_ns
    if path.suffix in JSON_SUFFIXES:  # only SQLite databases have a -wal file
        return size, mtime
    wal = path.with_name(path.name + "-wal")
    try:
        wal_info = wal.stat()
        size, mtime = size + wal_info.st_size, max(mtime, wal_info.st_mtime_ns)
    except OSError:
        pass
    return size, mtime


def read_file(path: Path, known: tuple | None) -> FileOutcome | None:
    """Turn one file into an outcome; ``None`` when it is unchanged since ``known``."""
    name = str(path)
    try:
        info = path.stat()
    except OSError as exc:
        return FileOutcome(path=name, outcome="failed", error=f"cannot read: {exc.strerror or exc}")
    size, mtime = _signature(path, info)
    if known and known[0] == size and known[1] == mtime and known[3] != "deleted":
        return None
    max_text = max_text_bytes()
    with_sqlite_limit = info.st_size > max_text
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
            if with_sqlite_limit and (head != b"SQLite format 3\x00" or info.st_size > MAX_SQLITE_BYTES):
                return FileOutcome(path=name, outcome="failed", size=size, mtime_ns=mtime,
                                   error=f"too large: {info.st_size / 1e6:.1f} MB "
                                         f"(limit {max_text / 1e6:.1f} MB; "
                                         "set BATON_MAX_FILE_MB to raise it)")
            data = head + handle.read()
    except OSError as exc:
        return FileOutcome(path=name, outcome="failed", size=size, mtime_ns=mtime,
                           error=f"cannot read: {exc.strerror or exc}")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if known and known[2] == digest and known[3] != "deleted":
        return FileOutcome(path=name, outcome="unchanged", size=size, mtime_ns=mtime, content_hash=digest)
    return parse_bytes(path, data, size, mtime, digest)


def parse_bytes(path: Path, data: bytes, size: int, mtime: int, digest: str) -> FileOutcome:
    name = str(path)
    base = {"path": name, "size": size, "mtime_ns": mtime, "content_hash": digest}
    try:
        content = decode(path, data)
        spec = detect_format(content)
        if spec is None:
            return FileOutcome(outcome="ignored", error=_ignored_reason(content.kind), **base)
        parsed = spec.parse(content)
    except ParseError as exc:
        return FileOutcome(outcome="failed", error=exc.message, error_line=exc.line, **base)
    except Exception as exc:  # a parser bug must not stop the pass; record it like bad input
        return FileOutcome(outcome="failed", error=f"parser error: {exc.__class__.__name__}: {exc}", **base)
    lines = data.count(b"\n")
    return FileOutcome(outcome="loaded", format=spec.name, framework=spec.framework, parsed=parsed,
                       warnings=parsed.warnings[:50], read_offset=len(data), line_count=lines, **base)


def _ignored_reason(kind: str) -> str:
    if kind == "other":
        return "not JSON, JSON Lines or SQLite"
    return f"{kind} of no known agent format"


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    progress: Callable[[int, int, str], None] | None = None,
) -> IngestSummary:
    """Ingest every candidate file below ``paths``. ``progress(files_done, files_total,
    path)`` is called after each file."""
    started = time.perf_counter()
    summary = IngestSummary()
    known = store.known_files()
    batch: list[FileOutcome] = []
    pending_records = 0

    def flush() -> None:
        nonlocal batch, pending_records
        summary.touched_runs |= write_resilient(store, [o for o in batch if o.outcome != "unchanged"], summary)
        batch, pending_records = [], 0

    roots = [Path(p) for p in paths]
    seen: set[str] = set()
    own_database = store.database_path
    own_name = os.path.basename(own_database) if own_database else None
    candidates = [
        path for path in walk(roots) if path.name != own_name or os.path.realpath(path) != own_database
    ]
    for path in candidates:
        seen.add(str(path))
        summary.files_seen += 1
        outcome = read_file(path, known.get(str(path)))
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
        if progress:
            progress(summary.files_seen, len(candidates), str(path))
    batch.extend(_vanished(roots, known, seen))
    flush()
    summary.runs = len(summary.touched_runs)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def write_resilient(store: Store, outcomes: list[FileOutcome], summary: IngestSummary | None = None) -> set[str]:
    """Write a batch; if the database refuses it, write file by file so that one bad file
    (say, a NUL character PostgreSQL will not store) fails alone with a clear reason."""
    try:
        return store.write_batch(outcomes)
    except Exception:
        if len(outcomes) == 1 and outcomes[0].outcome != "loaded":
            raise
    touched: set[str] = set()
    for outcome in outcomes:
        try:
            touched |= store.write_batch([outcome])
        except Exception as exc:
            reason = str(exc).splitlines()[0][:300]
            failed = FileOutcome(path=outcome.path, outcome="failed", size=outcome.size, mtime_ns=outcome.mtime_ns,
                                 content_hash=outcome.content_hash, error=f"cannot store: {reason}")
            store.write_batch([failed])
            if summary is not None and outcome.outcome == "loaded":
                summary.files_loaded -= 1
                summary.files_failed += 1
                summary.failures.append({"path": outcome.path, "line": None, "error": failed.error})
    return touched


def _vanished(roots: list[Path], known: dict[str, tuple], seen: set[str]) -> list[FileOutcome]:
    """Files loaded before below these roots that are gone now: marked deleted, records kept."""
    prefixes = [str(root) if root.is_file() else str(root).rstrip("/") + "/" for root in roots]
    return [
        FileOutcome(path=path, outcome="deleted", error="file no longer exists; its records are kept")
        for path, info in known.items()
        if path not in seen and info[3] != "deleted" and any(path == p or path.startswith(p) for p in prefixes)
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

"""Files to outcomes, outcomes to the store, in batches: the ingest pass.

Re-reading an unchanged file costs a stat (size and mtime match) or, when only the mtime
moved, a read and a hash. Every failure becomes a recorded outcome that names the file,
the line where known, and what is wrong; nothing stops the pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.store import FileOutcome, KnownFile, Store
from ingest.content import SQLITE_MAGIC, decode, sqlite_problem
from ingest.discover import walk_names
from ingest.errors import ParseError
from ingest.registry import detect_format
from ingest.tail import StartOver, complete_part, decode_lines, fingerprint_of, read_tail, tail_spec, tailable

DEFAULT_MAX_FILE_MB = 64
MAX_SQLITE_BYTES = 1024 * 1024 * 1024
BATCH_FILES = 2000
BATCH_RECORDS = 20000
GONE = "file no longer exists; its records are kept"


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


def _unchanged_json(name: str, known: KnownFile) -> bool:
    """The cheap path of a re-ingest: a JSON file whose size and mtime are as stored."""
    if known.outcome in ("deleted", "failed") or not name.endswith(tuple(JSON_SUFFIXES)):
        return False
    try:
        info = os.stat(name)
    except OSError:
        return False
    return known.size == info.st_size and known.mtime_ns == info.st_mtime_ns


class Unstable(Exception):
    """The file kept changing while it was read; read it again when it settles."""


class _TooLarge(Exception):
    def __init__(self, info: os.stat_result) -> None:
        self.info = info


def _read_stable(path: Path, max_text: int, attempts: int = 3) -> tuple[bytes, os.stat_result]:
    """The whole file, read while its size and mtime stayed put (a writer rewriting it
    during the read makes the read start again). Text files may have up to ``max_text``
    bytes, SQLite databases up to MAX_SQLITE_BYTES; larger ones raise _TooLarge."""
    for attempt in range(attempts):
        with open(path, "rb") as handle:
            before = os.fstat(handle.fileno())
            data = b""
            if before.st_size > max_text:
                data = handle.read(16)
                if data != SQLITE_MAGIC or before.st_size > MAX_SQLITE_BYTES:
                    raise _TooLarge(before)
            data += handle.read()
            after = os.fstat(handle.fileno())
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(
            data
        ) == after.st_size:
            return data, after
        time.sleep(0.005 * (attempt + 1))
    raise Unstable(str(path))


def _digest(path: Path, data: bytes) -> str:
    hasher = hashlib.blake2b(data, digest_size=16)
    if data.startswith(SQLITE_MAGIC):  # a WAL database changes through its -wal file too
        with contextlib.suppress(OSError):
            hasher.update(path.with_name(path.name + "-wal").read_bytes())
    return hasher.hexdigest()


def _cannot_read(name: str, exc: OSError, size: int = 0, mtime: int = 0) -> FileOutcome:
    return FileOutcome(
        path=name, outcome="failed", size=size, mtime_ns=mtime, error=f"cannot read: {exc.strerror or exc}"
    )


def read_file(path: Path, known: KnownFile | None) -> FileOutcome | None:
    """Turn one file into an outcome; ``None`` when it is unchanged since ``known``.

    A file seen before costs a stat when unchanged; an append-only file loaded before is
    read from its stored offset (``ingest.tail``). Raises Unstable when the file kept
    changing while it was read.
    """
    name = str(path)
    if known is not None and known.outcome != "deleted":
        try:
            size, mtime = _signature(path, path.stat())
        except OSError as exc:
            return _cannot_read(name, exc)
        # A failed file is tried again even when unchanged: the cause may have been the limit,
        # a lock or a Baton bug, not the file.
        if known.size == size and known.mtime_ns == mtime and known.outcome != "failed":
            return None
        spec = tail_spec(known)
        if spec is not None:
            try:
                return read_tail(path, known, spec, size, mtime)
            except StartOver:
                pass
            except OSError as exc:
                return _cannot_read(name, exc, size, mtime)
    max_text = max_text_bytes()
    try:
        data, info = _read_stable(path, max_text)
    except _TooLarge as exc:
        size, mtime = _signature(path, exc.info)
        return FileOutcome(
            path=name,
            outcome="failed",
            size=size,
            mtime_ns=mtime,
            error=f"too large: {exc.info.st_size / 1e6:.1f} MB (limit {max_text / 1e6:.1f} MB; "
            "set BATON_MAX_FILE_MB to raise it)",
        )
    except OSError as exc:
        return _cannot_read(name, exc)
    size, mtime = _signature(path, info)
    digest = _digest(path, data)
    if known and known.content_hash == digest and known.outcome not in ("deleted", "failed"):
        return FileOutcome(path=name, outcome="unchanged", size=size, mtime_ns=mtime, content_hash=digest)
    return parse_bytes(path, data, size, mtime, digest)


def parse_bytes(path: Path, data: bytes, size: int, mtime: int, digest: str) -> FileOutcome:
    name = str(path)
    base = {"path": name, "size": size, "mtime_ns": mtime, "content_hash": digest}
    offset = lines = 0
    try:
        content = decode(path, data)
        spec = detect_format(content)
        if spec is None:
            problem = sqlite_problem(path) if content.kind == "sqlite" else None
            if problem:
                return FileOutcome(outcome="failed", error=problem, **base)
            return FileOutcome(outcome="ignored", error=_ignored_reason(content.kind), **base)
        if spec.append_only and tailable(content.kind, data):
            # Complete lines only: a partial last line waits for its newline.
            offset = complete_part(data)
            lines = data.count(b"\n", 0, offset)
            content = decode_lines(path, data[:offset])
            base["content_hash"] = fingerprint_of(data, offset)
        parsed = spec.parse(content)
    except ParseError as exc:
        return FileOutcome(outcome="failed", error=exc.message, error_line=exc.line, **base)
    except Exception as exc:  # a parser bug must not stop the pass; record it like bad input
        return FileOutcome(outcome="failed", error=f"parser error: {exc.__class__.__name__}: {exc}", **base)
    return FileOutcome(
        outcome="loaded",
        format=spec.name,
        framework=spec.framework,
        parsed=parsed,
        warnings=parsed.warnings[:50],
        read_offset=offset,
        line_count=lines,
        **base,
    )


def _ignored_reason(kind: str) -> str:
    if kind == "other":
        return "not JSON, JSON Lines or SQLite"
    return f"{kind} of no known agent format"


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    progress: Callable[[int, int, str], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> IngestSummary:
    """Ingest every candidate file below ``paths``. ``progress(files_done, files_total,
    path)`` is called after each file; ``on_outcome(outcome)`` after each written outcome
    (loaded, ignored, failed, deleted) once its batch is committed."""
    started = time.perf_counter()
    summary = IngestSummary()
    known = store.known_files()
    batch: list[FileOutcome] = []
    pending_records = 0

    def flush() -> None:
        nonlocal batch, pending_records
        written = [o for o in batch if o.outcome != "unchanged"]
        summary.touched_runs |= write_resilient(store, written, summary)
        if on_outcome:
            for outcome in written:
                on_outcome(outcome)
        batch, pending_records = [], 0

    roots = [Path(p) for p in paths]
    seen: set[str] = set()
    own_database = store.database_path
    own_name = os.path.basename(own_database) if own_database else None
    candidates = [
        name
        for name in walk_names(roots)
        if os.path.basename(name) != own_name or os.path.realpath(name) != own_database
    ]
    for name in candidates:
        seen.add(name)
        summary.files_seen += 1
        previous = known.get(name)
        if previous is not None and _unchanged_json(name, previous):
            summary.files_unchanged += 1
            if progress:
                progress(summary.files_seen, len(candidates), name)
            continue
        path = Path(name)
        try:
            outcome = read_file(path, previous)
        except Unstable:
            summary.busy.append(str(path))
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
        if progress:
            progress(summary.files_seen, len(candidates), str(path))
    batch.extend(_vanished(roots, known, seen))
    flush()
    summary.runs = len(summary.touched_runs)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def write_resilient(
    store: Store, outcomes: list[FileOutcome], summary: IngestSummary | None = None
) -> set[str]:
    """Write a batch; if the database refuses it, write file by file so that one bad file
    (say, a NUL character PostgreSQL will not store) fails alone with a clear reason. A file
    the database refused is replaced in ``outcomes`` by its failed outcome."""
    try:
        return store.write_batch(outcomes)
    except Exception:
        if len(outcomes) == 1 and outcomes[0].outcome != "loaded":
            raise
    touched: set[str] = set()
    for index, outcome in enumerate(outcomes):
        try:
            touched |= store.write_batch([outcome])
        except Exception as exc:
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

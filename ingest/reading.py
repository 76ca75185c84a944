"""One file to one outcome: read it whole (or its new lines), recognise it, parse it.

Pure of the database: what was known of the file before comes in as a ``KnownFile``.
Re-reading an unchanged file costs a stat (size and mtime match) or, when only the mtime
moved, a read and a hash. A file that keeps changing while read raises ``Unstable``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import time
from pathlib import Path

from core.outcomes import KEPT, FileOutcome, KnownFile
from core.record_values import check_values
from core.records import ParsedFile
from ingest.content import (
    LOG_SUFFIXES,
    SQLITE_MAGIC,
    blank,
    complete_lines,
    decode,
    decode_lines,
    sqlite_problem,
)
from ingest.errors import SourceChanged
from ingest.parse_failure import parse_failure
from ingest.registry import all_formats, detect_format
from ingest.regular_file import open_regular, open_regular_fd, read_upto
from ingest.spec import FormatSpec
from ingest.tail import StartOver, complete_part, fingerprint_of, read_tail, tail_spec, tailable

DEFAULT_MAX_FILE_MB = 64
MAX_SQLITE_BYTES = 1024 * 1024 * 1024


def max_text_bytes() -> int:
    """Largest JSON/JSONL file read whole (BATON_MAX_FILE_MB, default 64 MB); SQLite
    databases may be up to 1 GiB."""
    return _max_text_bytes(os.environ.get("BATON_MAX_FILE_MB"))


@functools.lru_cache(maxsize=4)
def _max_text_bytes(setting: str | None) -> int:
    try:
        return int(float(setting or DEFAULT_MAX_FILE_MB) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_FILE_MB * 1024 * 1024


JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
_JSON_ENDINGS = tuple(sorted(JSON_SUFFIXES))


def _signature(name: str, info: os.stat_result) -> tuple[int, int]:
    """Size and mtime; a SQLite database also changes through its -wal file."""
    size, mtime = info.st_size, info.st_mtime_ns
    if name.endswith(_JSON_ENDINGS):  # only SQLite databases have a -wal file
        return size, mtime
    try:
        wal_info = os.stat(name + "-wal")
        size, mtime = size + wal_info.st_size, max(mtime, wal_info.st_mtime_ns)
    except OSError:
        pass
    return size, mtime


def unchanged_json(name: str, known: KnownFile) -> bool:
    """The cheap path of a re-ingest: a JSON file whose size and mtime are as stored."""
    if known.outcome in ("deleted", "failed") or not name.endswith(_JSON_ENDINGS):
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


def _read_stable(path: str, max_text: int, attempts: int = 3) -> tuple[bytes, os.stat_result]:
    """The whole file, read while its size and mtime stayed put (a writer rewriting it
    during the read makes the read start again). Text files may have up to ``max_text``
    bytes, SQLite databases up to MAX_SQLITE_BYTES; larger ones raise _TooLarge."""
    for attempt in range(attempts):
        fd, before = open_regular_fd(path)
        try:
            data = b""
            if before.st_size > max_text:
                data = os.read(fd, 16)
                if data != SQLITE_MAGIC or before.st_size > MAX_SQLITE_BYTES:
                    raise _TooLarge(before)
            data += read_upto(fd, before.st_size - len(data))
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(
            data
        ) == after.st_size:
            return data, after
        time.sleep(0.005 * (attempt + 1))
    raise Unstable(str(path))


def _wal_bytes(name: str) -> bytes:
    """A SQLite database's -wal file (empty when there is none)."""
    with contextlib.suppress(OSError), open_regular(name + "-wal") as wal:
        return wal.read()
    return b""


def _digest(name: str, data: bytes, wal: bytes | None = None) -> str:
    """The hash of a file's bytes; a database's with its -wal file's (``wal``: as read
    with ``data``, read now when None)."""
    hasher = hashlib.blake2b(data, digest_size=16)
    if data.startswith(SQLITE_MAGIC):  # a WAL database changes through its -wal file too
        hasher.update(_wal_bytes(name) if wal is None else wal)
    return hasher.hexdigest()


def _cannot_read(name: str, exc: OSError, size: int = 0, mtime: int = 0) -> FileOutcome:
    return FileOutcome(
        path=name, outcome="failed", size=size, mtime_ns=mtime, error=f"cannot read: {exc.strerror or exc}"
    )


def read_file(path: str | Path, known: KnownFile | None, max_text: int | None = None) -> FileOutcome | None:
    """Turn one file into an outcome; ``None`` when it is unchanged since ``known``.

    A file seen before costs a stat when unchanged; an append-only file loaded before is
    read from its stored offset (``ingest.tail``). Raises Unstable when the file kept
    changing while it was read. The path may be a string: the hot path builds no Path.
    ``max_text`` is ``max_text_bytes()``, read once by a caller of many files.
    """
    name = os.fspath(path)
    if max_text is None:
        max_text = max_text_bytes()
    if known is not None and known.outcome != "deleted":
        try:
            size, mtime = _signature(name, os.stat(name))
        except OSError as exc:
            return _cannot_read(name, exc)
        # A failed file is tried again even when unchanged: the cause may have been the limit,
        # a lock or a Baton bug, not the file.
        if known.size == size and known.mtime_ns == mtime and known.outcome != "failed":
            return None
        spec = tail_spec(known)
        if spec is not None:
            try:
                return read_tail(name, known, spec, size, mtime, max_text)
            except StartOver:
                pass
            except OSError as exc:
                return _cannot_read(name, exc, size, mtime)
        spec = _reread_spec(known)
        if spec is not None and spec.reread is not None:
            from ingest.sqlite_source import consistent_view

            try:
                with consistent_view(name):
                    partial = spec.reread(name, known, size, mtime)
            except SourceChanged:
                raise Unstable(name) from None
            except Exception:  # noqa: BLE001 - the whole read below says what is wrong
                partial = None
            if partial is not None:
                return partial
    try:
        data, info = _read_stable(name, max_text)
    except _TooLarge as exc:
        size, mtime = _signature(name, exc.info)
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
    size, mtime = _signature(name, info)
    # The hash of the whole file, only where it is compared or kept: a log read as JSON
    # Lines keeps a fingerprint instead (``ingest.tail``), which no whole hash can equal.
    stored = known.content_hash if known and known.outcome not in ("deleted", "failed") else None
    digest = wal = None
    if stored and not stored.startswith("tail:"):
        digest = _digest(name, data)
        if stored == digest:
            return FileOutcome(path=name, outcome="unchanged", size=size, mtime_ns=mtime, content_hash=digest)
    elif data.startswith(SQLITE_MAGIC):
        # The hash is of the database as it was before the parse, but taken only if kept: a
        # parser may keep a state of its own (LangGraph's rows), and hashing 1 GiB costs 1 s.
        wal = _wal_bytes(name)
    outcome = parse_bytes(name, data, size, mtime, digest, wal)
    if known is not None and known.outcome == "loaded" and outcome.outcome in ("failed", "ignored"):
        # Failed or ignored, a file gives up nothing it loaded before: say so.
        outcome.error = f"{outcome.error}; {KEPT}"
    return outcome


def parse_bytes(
    path: str | Path, data: bytes, size: int, mtime: int, digest: str | None, wal: bytes | None = None
) -> FileOutcome:
    """The outcome of a file's bytes. A SQLite database is read through one view for its
    sniffers and its parser (``ingest.sqlite_source``); raises Unstable when it changed
    in a way that view could not see. ``digest`` is the bytes' hash, computed here when
    None and the outcome keeps it (a database's with ``wal``, its -wal file read with
    ``data``, when given)."""
    if data.startswith(SQLITE_MAGIC):
        from ingest.sqlite_source import consistent_view

        try:
            with consistent_view(path):
                return _parse_bytes(os.fspath(path), data, size, mtime, digest, wal)
        except SourceChanged:
            raise Unstable(os.fspath(path)) from None
    return _parse_bytes(os.fspath(path), data, size, mtime, digest)


def _reread_spec(known: KnownFile) -> FormatSpec | None:
    """The format a file was loaded as, when it can re-read part of a changed file."""
    if known.outcome != "loaded" or not known.format:
        return None
    return next((s for s in all_formats() if s.name == known.format and s.reread is not None), None)


def _parse_bytes(
    name: str, data: bytes, size: int, mtime: int, digest: str | None, wal: bytes | None = None
) -> FileOutcome:
    base = {"path": name, "size": size, "mtime_ns": mtime, "content_hash": digest}
    offset = lines = 0

    def hashed() -> dict:
        if base["content_hash"] is None:
            base["content_hash"] = _digest(name, data, wal)
        return base

    if name.endswith(LOG_SUFFIXES) and blank(data):
        # An empty log is one with no line yet (agents create them at start); never a
        # replacement for lines it had: it keeps them (an empty .json stays failed).
        return FileOutcome(outcome="loaded", parsed=ParsedFile(format=""), keeps=True, **hashed())
    try:
        content = decode(name, data)
        spec = detect_format(content)
        if spec is None:
            problem = sqlite_problem(name) if content.kind == "sqlite" else None
            if problem:
                return FileOutcome(outcome="failed", error=problem, **hashed())
            return FileOutcome(outcome="ignored", error=_ignored_reason(content.kind), **hashed())
        if spec.append_only and tailable(content.kind, data):
            # Complete lines only: a partial last line waits for its newline.
            offset = complete_part(data)
            if content.kind == "jsonl" and offset == len(data):  # decoded as these lines already
                lines = content.newlines
            elif content.kind == "jsonl" and not content.notes:  # decoded, but for its last line
                lines = content.newlines
                content = complete_lines(content)
            else:
                lines = data.count(b"\n", 0, offset)
                content = decode_lines(name, data[:offset])
            base["content_hash"] = fingerprint_of(data, offset)
        parsed = check_values(spec.parse(content))
        if content.notes:
            parsed.warnings[:0] = content.notes
        if parsed.read_state is not None:
            base["content_hash"], offset, lines = parsed.read_state
    except SourceChanged:  # not the file's fault: it is read again once it settles
        raise
    except Exception as exc:  # bad input, or a parser bug: recorded, never stops the pass
        return parse_failure(exc, **hashed())
    outcome = FileOutcome(
        outcome="loaded",
        format=spec.name,
        framework=spec.framework,
        parsed=parsed,
        warnings=parsed.warnings[:50],
        read_offset=offset,
        line_count=lines,
        **hashed(),
    )
    outcome.add_bad_lines(content.bad_lines)
    return outcome


def _ignored_reason(kind: str) -> str:
    if kind == "other":
        return "not JSON, JSON Lines or SQLite"
    return f"{kind} of no known agent format"

"""Append-only JSON Lines: read only the complete lines added since the last load.

A file of an ``append_only`` format that was loaded as JSON Lines keeps, in its source-file
row, the byte offset just past its last complete line (``read_offset``), how many lines
that was (``line_count``) and a fingerprint of the consumed bytes (``content_hash``: the
first and last 4 KB before the offset). The next read checks the fingerprint (a shorter
file or another file renamed over it starts over), parses only the new complete lines and
leaves a partial last line for later: it is read once its newline arrives.

A log found shorter than what was read of it (cut short, emptied, rotated) keeps every record
it gave, as a deleted file does, and its outcome says so: it is an append-only log, so what
it held was true, and a shorter copy is no reason to forget it. Reading goes on from its new
end: the lines it holds now are taken as those read before, and the lines written after them
are read as new. (A rotated log whose new lines were written before Baton saw it shrink loses
those lines, not the old ones: there is no telling them from the old lines cut short.)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from core.outcomes import KEPT, FileOutcome, KnownFile
from core.record_values import check_values
from core.records import ParsedFile
from ingest.content import decode_lines
from ingest.parse_failure import parse_failure
from ingest.registry import all_formats
from ingest.regular_file import open_regular
from ingest.spec import FormatSpec

WINDOW = 4096


def fingerprint(head: bytes, tail: bytes, offset: int) -> str:
    """Identity of the first ``offset`` bytes of a file from its first and last 4 KB."""
    digest = hashlib.blake2b(head + b"\x00" + tail, digest_size=16, person=offset.to_bytes(16, "little"))
    return "tail:" + digest.hexdigest()


def fingerprint_of(data: bytes, offset: int) -> str:
    return fingerprint(data[: min(WINDOW, offset)], data[max(0, offset - WINDOW) : offset], offset)


def tail_spec(known: KnownFile | None) -> FormatSpec | None:
    """The append-only format a file was loaded as, if it can be tailed from an offset (0
    too, for a log emptied after it was read)."""
    if known is None or known.outcome != "loaded" or known.read_offset < 0 or not known.format:
        return None
    if not (known.content_hash or "").startswith("tail:"):
        return None
    return next((s for s in all_formats() if s.name == known.format and s.append_only), None)


def complete_part(data: bytes) -> int:
    """Length of ``data`` up to and including its last newline."""
    return data.rfind(b"\n") + 1


def tailable(kind: str, data: bytes) -> bool:
    """JSON Lines, or one JSON value on one complete line (the first line of a new stream)."""
    cut = complete_part(data)
    if kind == "jsonl":
        return cut > 0
    return kind == "json" and cut == len(data) and data.count(b"\n") == 1


class StartOver(Exception):
    """Read the whole file instead: it is not the one whose prefix was consumed (truncated,
    rotated, rewritten), or its new lines need the rest (``ParsedFile.whole_file_needed``)."""


def read_tail(
    path: str | Path, known: KnownFile, spec: FormatSpec, size: int, mtime_ns: int, whole_limit: int
) -> FileOutcome:
    """New complete lines as an ``append`` outcome, ``unchanged`` when there are none.

    Raises StartOver when the consumed prefix is not there any more, or when the parser
    says the new lines need the whole file and it is at most ``whole_limit`` bytes (a
    larger one keeps growing by its tail, with a warning).
    """
    name = os.fspath(path)
    offset = known.read_offset
    with open_regular(path) as handle:
        if os.fstat(handle.fileno()).st_size < offset:
            return _shortened(handle, name, known, spec, size, mtime_ns)
        head = handle.read(min(WINDOW, offset))
        handle.seek(max(0, offset - WINDOW))
        tail = handle.read(min(WINDOW, offset))
        if fingerprint(head, tail, offset) != known.content_hash:
            raise StartOver
        handle.seek(offset)
        new = handle.read()
    cut = complete_part(new)
    base = {
        "path": name,
        "size": size,
        "mtime_ns": mtime_ns,
        "format": spec.name,
        "framework": spec.framework,
    }
    if cut == 0:  # nothing new, or only a partial line still being written
        return FileOutcome(outcome="unchanged", content_hash=known.content_hash, **base)
    chunk = new[:cut]
    new_offset = offset + cut
    digest = fingerprint((head + chunk)[:WINDOW], (tail + chunk)[-WINDOW:], new_offset)
    first_line = known.line_count + 1
    try:
        content = decode_lines(path, chunk, first_line, offset)
        parsed = check_values(spec.parse(content))
        if content.notes:
            parsed.warnings[:0] = content.notes
    except Exception as exc:  # bad input, or a parser bug: recorded, never stops the watcher
        return parse_failure(
            exc, content_hash=known.content_hash, read_offset=offset, line_count=known.line_count, **base
        )
    if parsed.whole_file_needed:
        if size <= whole_limit:
            raise StartOver
        parsed.warnings.append(
            f"{name}: only the new lines were read (the file is over the {whole_limit / 1e6:.1f} MB limit"
            " for whole reads), so what needs the whole file, such as a run's attempt list, is not updated"
        )
    outcome = FileOutcome(
        outcome="loaded",
        content_hash=digest,
        parsed=parsed,
        warnings=parsed.warnings[:50],
        read_offset=new_offset,
        line_count=known.line_count + chunk.count(b"\n"),
        append=True,
        append_from=offset,
        **base,
    )
    outcome.add_bad_lines(content.bad_lines)
    return outcome


def _shortened(
    handle: BinaryIO, name: str, known: KnownFile, spec: FormatSpec, size: int, mtime_ns: int
) -> FileOutcome:
    """The outcome of a log shorter than the ``known.read_offset`` bytes read of it: its
    records are kept (nothing is added or replaced), and it is read on from its present end
    (its last newline), fingerprinted anew."""
    handle.seek(0)
    head = handle.read(WINDOW)
    handle.seek(0)
    end = lines = 0
    position = 0
    while chunk := handle.read(1 << 20):
        last = chunk.rfind(b"\n")
        if last >= 0:
            end = position + last + 1
            lines += chunk.count(b"\n")
        position += len(chunk)
    handle.seek(max(0, end - WINDOW))
    tail = handle.read(end - max(0, end - WINDOW))
    note = (
        f"shorter than the {known.read_offset:,} bytes read before (cut short or rotated): {KEPT},"
        " and lines written after its present end are read as new"
    )
    return FileOutcome(
        path=name,
        outcome="loaded",
        size=size,
        mtime_ns=mtime_ns,
        format=spec.name,
        framework=spec.framework,
        content_hash=fingerprint(head[:end], tail, end),
        error=note,
        warnings=[f"{name}: {note}"],
        parsed=ParsedFile(format=spec.name),
        read_offset=end,
        line_count=lines,
        append=True,
        append_from=known.read_offset,  # what the database holds: another writer's later read is newer
    )

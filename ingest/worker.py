"""An ingest helper process and its whole wire protocol: ``python -m ingest.worker``, or a
fork running ``serve`` (both started by ``ingest.fanout``).

``BATON_INGEST_WORKERS`` sets their number: it counts the processes that ingest, the caller
included, so ``N`` means ``N - 1`` helpers (``1``: none). The variable and this module keep
the name "worker" because both are documented for users; in the code the processes are
helpers throughout.

Reads messages from stdin (a fork: from a pipe), each a 4-byte big-endian length and a
JSON payload: first ``{"db_url": ...}`` (not sent to a fork), then
requests: ``{"items": [[path, known-or-null], ...], "outcomes": bool}`` (a chunk of an
ingest pass, each ``known`` a ``KnownFile``'s fields as a list: it reads, parses and writes
the files with ``ingest.batch.read_and_write`` and answers with the chunk's summary and,
unless ``outcomes`` is false, its written outcomes, without records) or ``{"changes": [path, ...]}``
(a share of a watcher's batch: ``ingest.batch.write_changes``, answered with the written
outcomes, the paths to retry and the runs touched). A request the database refused because
another process held its lock past the busy timeout is answered ``{"database_busy": why}``.
Exits when its requests end, and quietly when its caller is gone (killed: the reply pipe
is broken; the chunk it was on is written whole, and nothing reaches the terminal they share).
The requests are built, and the replies read, by the functions below, so both ends of the
protocol live here.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import BinaryIO

import orjson

from core.db import DatabaseBusy, make_engine
from core.errors import database_failure
from core.outcomes import FileOutcome, KnownFile
from core.store import Store
from ingest.batch import ChangeResult, IngestSummary, Item, read_and_write, write_changes
from ingest.gc_pause import collector_paused

HEADER = struct.Struct(">I")


def read_message(stream: BinaryIO) -> bytes | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_message(stream: BinaryIO, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


# -- the caller's end ------------------------------------------------------------------------
def send(stream: BinaryIO, message: dict) -> None:
    """Send a helper one message: ``connect_message`` first (a spawned one), then requests."""
    write_message(stream, orjson.dumps(message))


def read_reply(stream: BinaryIO) -> dict | None:
    """A helper's answer to the request under way; None when the helper exited. Raises
    DatabaseBusy when the database stayed locked (an OSError: the caller tries the chunk
    itself, and fails the same way)."""
    reply = read_message(stream)
    if reply is None:
        return None
    answer = orjson.loads(reply)
    if "database_busy" in answer:
        raise DatabaseBusy(answer["database_busy"])
    return answer


def connect_message(url: str) -> dict:
    """The first message to a spawned helper: the database it writes to."""
    return {"db_url": url}


def items_request(items: list[Item], outcomes: bool) -> dict:
    """A chunk of a pass to read and write; its written outcomes come back only when
    ``outcomes`` (a caller that reports no outcome needs none)."""
    return {"items": items_to_message(items), "outcomes": outcomes}


def changes_request(paths: list[str]) -> dict:
    """A share of a watcher's batch of changed paths, written as one batch."""
    return {"changes": paths}


def items_to_message(items: list[Item]) -> list:
    """``(path, known)`` items as JSON can carry them: a ``KnownFile`` as the list of its fields."""
    return [(name, None if known is None else list(known)) for name, known in items]


def items_from_message(items: list) -> list[Item]:
    """The ``(path, known)`` items of a helper's request, as ``items_to_message`` wrote them."""
    return [(name, None if known is None else KnownFile._make(known)) for name, known in items]


def merge_reply(summary: IngestSummary, reply: dict) -> list[FileOutcome]:
    """Add a helper's chunk summary to ``summary``; return its written outcomes (no records)."""
    for key in ("files_loaded", "files_unchanged", "files_ignored", "files_failed", "checkpoints", "events"):
        setattr(summary, key, getattr(summary, key) + reply[key])
    summary.failures.extend(reply["failures"])
    summary.bad_lines.extend(reply["bad_lines"])
    summary.bad_line_count += reply["bad_line_count"]
    summary.warnings.extend(reply["warnings"])
    summary.busy.extend(reply["busy"])
    summary.touched_runs.update(reply["touched_runs"])
    return [FileOutcome(**written) for written in reply["written"]]


def change_result(reply: dict) -> ChangeResult:
    """A helper's answer to ``changes_request`` (its written outcomes without records)."""
    return ChangeResult(
        written=[FileOutcome(**written) for written in reply["written"]],
        retry=reply["retry"],
        touched_runs=set(reply["touched_runs"]),
    )


# -- the helper's end ------------------------------------------------------------------------
def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    first = read_message(stdin)
    if first is not None:
        try:
            serve(stdin, stdout, orjson.loads(first)["db_url"])
        except Exception as exc:
            if database_failure(exc) is None:
                raise
            sys.exit(1)  # the pass does the chunk again and reports the error once


def serve(requests: BinaryIO, replies: BinaryIO, db_url: str, first: dict | None = None) -> None:
    """Answer requests until they end, writing to the database at ``db_url``; ``first`` (a
    fork's first request, in its memory) is answered before any is read."""
    store = Store(make_engine(db_url, migrate=False))
    try:
        with collector_paused(), store.background_wal_checkpoints():
            if first is not None and not _answered(replies, _reply(store, first)):
                return
            while (message := read_message(requests)) is not None:
                if not _answered(replies, _reply(store, orjson.loads(message))):
                    return
    finally:
        store.engine.dispose()


def _answered(replies: BinaryIO, answer: dict) -> bool:
    """Send ``answer``; False when the caller is gone (killed, say: its end of the pipe is
    closed). Nobody is left to answer or to tell, so the helper ends without a word; the
    pipe is pointed at /dev/null first, so the interpreter's flush at exit fails no more."""
    try:
        write_message(replies, orjson.dumps(answer))
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, replies.fileno())
        os.close(devnull)
        return False
    return True


def _reply(store: Store, request: dict) -> dict:
    try:
        return _answer(store, request)
    except DatabaseBusy as exc:  # raised again by the caller: it ends the pass
        return {"database_busy": str(exc)}


def _answer(store: Store, request: dict) -> dict:
    if "changes" in request:
        changed = write_changes(store, request["changes"], ())
        return {
            "retry": changed.retry,
            "touched_runs": sorted(changed.touched_runs),
            "written": [_light(outcome) for outcome in changed.written],
        }
    summary = IngestSummary()
    written: list[FileOutcome] = []
    wanted = request.get("outcomes", True)  # a caller that reports no outcome needs none
    read_and_write(
        store, items_from_message(request["items"]), summary, on_outcome=written.append if wanted else None
    )
    return summary.as_dict() | {
        "failures": summary.failures,
        "bad_lines": summary.bad_lines,
        "bad_line_count": summary.bad_line_count,
        "warnings": summary.warnings,
        "busy": summary.busy,
        "touched_runs": sorted(summary.touched_runs),
        "written": [_light(outcome) for outcome in written],
    }


def _light(outcome: object) -> dict:
    """A written outcome without its records (what progress reports need)."""
    fields = (
        "path",
        "outcome",
        "size",
        "mtime_ns",
        "content_hash",
        "format",
        "framework",
        "error",
        "error_line",
    )
    return {name: getattr(outcome, name) for name in fields}


if __name__ == "__main__":
    main()

"""An ingest helper process: ``python -m ingest.worker``, or a fork running ``serve``
(both started by ``ingest.fanout``).

Reads messages from stdin (a fork: from a pipe), each a 4-byte big-endian length and a
JSON payload: first ``{"db_url": ...}`` (not sent to a fork), then
requests: ``{"items": [[path, known-or-null], ...], "outcomes": bool}`` (a chunk of an
ingest pass, each ``known`` a ``KnownFile``'s fields as a list: it reads, parses and writes
the files with ``ingest.loader.read_and_write`` and answers with the chunk's summary and,
unless ``outcomes`` is false, its written outcomes, without records) or ``{"changes": [path, ...]}``
(a share of a watcher's batch: ``ingest.changes.load_changes``, answered with the written
outcomes, the paths to retry and the runs touched). Exits when its requests end.
"""

from __future__ import annotations

import struct
import sys
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from core.outcomes import FileOutcome
    from core.store import Store

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


def main() -> None:
    import orjson

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    first = read_message(stdin)
    if first is not None:
        serve(stdin, stdout, orjson.loads(first)["db_url"])


def serve(requests: BinaryIO, replies: BinaryIO, db_url: str, first: dict | None = None) -> None:
    """Answer requests until they end, writing to the database at ``db_url``; ``first`` (a
    fork's first request, in its memory) is answered before any is read."""
    import orjson

    from core.db import make_engine
    from core.store import Store
    from ingest.gc_pause import collector_paused

    store = Store(make_engine(db_url, migrate=False))
    with collector_paused(), store.background_checkpoints():
        if first is not None:
            write_message(replies, orjson.dumps(_reply(store, first)))
        while (message := read_message(requests)) is not None:
            write_message(replies, orjson.dumps(_reply(store, orjson.loads(message))))
    store.engine.dispose()


def _reply(store: Store, request: dict) -> dict:
    from core.db import DatabaseBusy

    try:
        return _answer(store, request)
    except DatabaseBusy as exc:  # raised again by the caller: it ends the pass
        return {"database_busy": str(exc)}


def _answer(store: Store, request: dict) -> dict:
    from ingest.changes import load_changes
    from ingest.fanout import items_from_message
    from ingest.loader import IngestSummary, read_and_write

    if "changes" in request:
        changed = load_changes(store, request["changes"])
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

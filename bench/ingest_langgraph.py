"""LangGraph ingest speed: one checkpoint database of T threads x C checkpoints.

Usage: ``python bench/ingest_langgraph.py [--threads 100] [--checkpoints 200] [--repeat 3]``

The database has SqliteSaver's schema and LangGraph's blob encoding (msgpack with ext 5
messages, JSON metadata, one ``messages`` write and one ``branch:to:agent`` null write per
checkpoint; each checkpoint's channel values hold the last 4 messages of a chat), written
here with ormsgpack so no langgraph install is needed. Printed, medians of ``--repeat``
rounds, cold and floor alternating:

* cold ingest (``ingest.loader.ingest_paths`` into a fresh SQLite store): checkpoints/s;
* unchanged re-ingest (a stat): passes/s;
* the floor: ``sqlite3`` reading every checkpoint and write row and msgpack-decoding every
  blob (the same ext hook), JSON-decoding the metadata. Target: cold within 3x of it;
* beside it, a floor that also stores: each checkpoint's decoded document (blob, metadata,
  writes) JSON-encoded and inserted into an indexed table of a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median

import orjson
import ormsgpack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import make_engine  # noqa: E402
from core.store import Store  # noqa: E402
from ingest.loader import ingest_paths  # noqa: E402
from ingest.parsers.langgraph.blobs import loads_msgpack  # noqa: E402

TARGET_RATIO = 3.0
SCHEMA = """
CREATE TABLE checkpoints (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL, parent_checkpoint_id TEXT, type TEXT, checkpoint BLOB, metadata BLOB,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id));
CREATE TABLE writes (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL, task_id TEXT NOT NULL, task_path TEXT NOT NULL DEFAULT '', idx INTEGER NOT NULL,
  channel TEXT NOT NULL, type TEXT, value BLOB, PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx));
"""


def _ext(obj: object) -> ormsgpack.Ext:
    raise TypeError(type(obj))


def message(kind: str, mid: str, text: str, n: int) -> ormsgpack.Ext:
    cls = {
        "ai": "langchain_core.messages.ai.AIMessage",
        "human": "langchain_core.messages.human.HumanMessage",
    }
    fields: dict = {"content": text, "type": kind, "id": mid, "name": None, "additional_kwargs": {}}
    if kind == "ai":
        fields["response_metadata"] = {"model_name": "gpt-4o-mini-2024-07-18", "model_provider": "openai"}
        fields["usage_metadata"] = {
            "input_tokens": 200 + n,
            "output_tokens": 20,
            "total_tokens": 220 + n,
            "input_token_details": {"cache_read": 128},
        }
        fields["tool_calls"] = []
    module, name = cls[kind].rsplit(".", 1)
    return ormsgpack.Ext(5, ormsgpack.packb([module, name, fields, "model_validate_json"]))


def generate(path: Path, threads: int, per_thread: int) -> int:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    total = 0
    for t in range(threads):
        parent = None
        history: list = []
        for c in range(per_thread):
            cid = str(uuid.uuid1())
            kind = "human" if c % 2 == 0 else "ai"
            msg = message(kind, f"t{t}-m{c}", f"message {c} of thread {t}", c)
            history = (history + [msg])[-4:]
            checkpoint = {
                "v": 4,
                "id": cid,
                "ts": "2026-12-03T10:00:00+00:00",
                "channel_values": {"messages": history, "branch:to:agent": None},
                "channel_versions": {"messages": f"{c:032}.0.1"},
                "versions_seen": {"agent": {"messages": f"{c:032}.0.1"}},
                "updated_channels": ["messages"],
            }
            metadata = orjson.dumps({"source": "loop", "step": c, "parents": {}, "user": "bench"})
            db.execute(
                "INSERT INTO checkpoints VALUES (?, '', ?, ?, 'msgpack', ?, ?)",
                (str(t), cid, parent, ormsgpack.packb(checkpoint), metadata),
            )
            task = str(uuid.uuid4())
            db.execute(
                "INSERT INTO writes VALUES (?, '', ?, ?, '~__pregel_pull, agent', 0, 'messages', 'msgpack', ?)",
                (str(t), cid, task, ormsgpack.packb([msg])),
            )
            db.execute(
                "INSERT INTO writes VALUES (?, '', ?, ?, '~__pregel_pull, agent', 1, 'branch:to:agent', 'null', ?)",
                (str(t), cid, task, b""),
            )
            parent = cid
            total += 1
    db.commit()
    db.close()
    return total


def floor(path: Path) -> float:
    start = time.perf_counter()
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    for type_, blob, metadata in db.execute("SELECT type, checkpoint, metadata FROM checkpoints"):
        if type_ == "msgpack":
            loads_msgpack(blob)
        orjson.loads(metadata)
    for type_, value in db.execute("SELECT type, value FROM writes"):
        if type_ == "msgpack":
            loads_msgpack(value)
    db.close()
    return time.perf_counter() - start


def floor_with_insert(path: Path, target: Path) -> float:
    """The floor, then what every store does at least: each checkpoint's decoded document
    (its blob, metadata and writes) JSON-encoded and inserted as a row of an indexed table
    into a fresh SQLite file, one transaction."""
    start = time.perf_counter()
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    writes: dict[tuple[str, str], list] = {}
    query = "SELECT thread_id, checkpoint_id, channel, type, value FROM writes"
    for thread, cid, channel, type_, value in db.execute(query):
        decoded = loads_msgpack(value) if type_ == "msgpack" else None
        writes.setdefault((thread, cid), []).append({"channel": channel, "value": decoded})
    rows = []
    query = (
        "SELECT thread_id, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints"
    )
    for thread, cid, parent, type_, blob, metadata in db.execute(query):
        document = {
            "checkpoint": loads_msgpack(blob) if type_ == "msgpack" else None,
            "metadata": orjson.loads(metadata),
            "writes": writes.get((thread, cid), []),
        }
        rows.append((f"{thread}:{cid}", thread, parent, orjson.dumps(document).decode()))
    db.close()
    out = sqlite3.connect(target)
    out.execute("CREATE TABLE checkpoint (id TEXT PRIMARY KEY, run_id TEXT, parent TEXT, document TEXT)")
    out.execute("CREATE INDEX ix_checkpoint_run ON checkpoint (run_id)")
    out.executemany("INSERT INTO checkpoint VALUES (?, ?, ?, ?)", rows)
    out.commit()
    out.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--checkpoints", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baton-bench-lg-") as tmp:
        work = Path(tmp)
        folder = work / "agent"
        folder.mkdir()
        database = folder / "checkpoints.sqlite"
        total = generate(database, args.threads, args.checkpoints)
        print(
            f"{args.threads} threads x {args.checkpoints} checkpoints: {total} checkpoints, "
            f"{database.stat().st_size / 1e6:.1f} MB"
        )
        colds, unchangeds, floors, ratios, inserts = [], [], [], [], []
        for round_ in range(args.repeat):
            store = Store(make_engine(f"sqlite:///{work / f'baton-{round_}.db'}"))
            start = time.perf_counter()
            cold = ingest_paths([folder], store)
            cold_s = time.perf_counter() - start
            start = time.perf_counter()
            again = ingest_paths([folder], store)
            unchanged_s = time.perf_counter() - start
            store.engine.dispose()
            floor_s = floor(database)
            inserts.append(floor_with_insert(database, work / f"floor-{round_}.db"))
            colds.append(cold_s)
            unchangeds.append(unchanged_s)
            floors.append(floor_s)
            ratios.append(cold_s / floor_s)
        print(
            f"cold ingest: loaded {cold.files_loaded}, failed {cold.files_failed}, checkpoints {cold.checkpoints}"
        )
        print(f"re-ingest:   unchanged {again.files_unchanged}, loaded {again.files_loaded}")
        print()
        print(f"{'measure':42} {'measured':>12} {'target':>10}")
        rows = [
            ("cold ingest checkpoints/s", f"{total / median(colds):,.0f}", ""),
            ("floor checkpoints/s (sqlite3 + msgpack)", f"{total / median(floors):,.0f}", ""),
            ("cold ingest / floor (time)", f"{median(ratios):.2f}x", f"<= {TARGET_RATIO}x"),
            ("floor + insert checkpoints/s (documents)", f"{total / median(inserts):,.0f}", ""),
            ("cold ingest / floor + insert (time)", f"{median(colds) / median(inserts):.2f}x", ""),
            ("unchanged re-ingest s", f"{median(unchangeds):.4f}", "a stat"),
            ("unchanged re-ingest checkpoints/s", f"{total / median(unchangeds):,.0f}", ""),
        ]
        for name, value, target in rows:
            print(f"{name:42} {value:>12} {target:>10}")


if __name__ == "__main__":
    main()

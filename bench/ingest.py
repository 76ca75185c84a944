"""Ingest speed: cold, unchanged re-ingest, and a raw floor on the same files.

Usage: ``python bench/ingest.py [--files 20000] [--repeat 3] [--dir DIR] [--keep]``

Generates N synthetic files of about 1 KB in the formats Baton reads (agent-checkpoint
documents forming chains, plus loopengt checkpoints when that parser is registered) and
prints, in one run, the medians of ``--repeat`` rounds (cold ingest and raw floor
alternate, so a machine whose pace drifts moves both):

* cold ingest (``ingest.loader.ingest_paths`` into a fresh SQLite file): files/s and MB/s;
* re-ingest of the unchanged tree: files/s;
* the raw floor: read each file, ``orjson.loads``, and ``sqlite3.executemany`` the same
  checkpoint rows into the same schema in one transaction. Baton's ingest must stay within
  2x of it;
* where the time goes: the cold ingest's CPU time per file (every process), and the read +
  parse and the writes of a cold ingest timed apart in one process.

Every timed pass starts with the tree just read once (``warm``): this VM drops files from
its page cache within seconds, and a first read then costs several times a second one.
Without it the floor, timed right after the ingest has read the files, read a warm tree
and the ingest a cold one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import make_engine  # noqa: E402
from core.store import Store  # noqa: E402
from ingest.batch import BATCH_FILES  # noqa: E402
from ingest.discover import walk_names  # noqa: E402
from ingest.gc_pause import collector_paused  # noqa: E402
from ingest.loader import ingest_paths  # noqa: E402
from ingest.reading import read_file  # noqa: E402
from ingest.registry import all_formats  # noqa: E402

TARGETS = {"cold_files_per_s": 10_000, "floor_ratio": 2.0, "unchanged_files_per_s": 50_000}
PAD = "Collected facts so far: pricing page fetched, plans extracted, currency normalised. "
BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)


def _uuid4(seed: str) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(seed.encode()).digest(), version=4))


def acf_document(index: int, chain: int, position: int, parent: str | None) -> dict:
    steps = [f"step {n}" for n in range(6)]
    return {
        "ac_version": "0.1.0",
        "checkpoint_id": _uuid4(f"checkpoint-{index}"),
        "task_id": _uuid4(f"task-{chain}"),
        "agent_id": f"agent-{chain % 7:02d}",
        "emitted_at": (BASE_TIME + timedelta(seconds=index)).isoformat(),
        "status": "failed" if position == 4 and chain % 5 == 0 else "partial",
        "task_summary": f"Synthetic task {chain}: compare pricing of vendor {chain % 97}",
        "completed_steps": steps[:position],
        "remaining_steps": steps[position:],
        "partial_output": {"notes": PAD * 5, "position": position},
        "failure_reason": None,
        "confidence": 0.5,
        "retry_strategy": "resume",
        "executor_hint": "any",
        "parent_checkpoint_id": parent,
    }


def loopengt_checkpoint(index: int, chain: int, position: int) -> dict:
    def state(n: int) -> dict:
        done = n < position
        return {
            "step_name": f"step_{n}",
            "status": "completed" if done else "pending",
            "attempts": 1 if done else 0,
            "result": {"output": PAD[:60], "error": None, "token_usage": {"prompt_tokens": 120}}
            if done
            else None,
            "started_at": None,
            "completed_at": None,
        }

    return {
        "checkpoint_id": f"{index:012x}",
        "run_id": f"{chain:012x}",
        "created_at": (BASE_TIME + timedelta(seconds=index)).isoformat().replace("+00:00", "Z"),
        "current_step_index": position,
        "step_states": [state(n) for n in range(4)],
        "context": {"goal": "Synthetic loop", "history": [PAD[:80]]},
    }


def generate(root: Path, count: int) -> int:
    """Write ``count`` files; returns total bytes. One in four is loopengt when supported."""
    names = {spec.name for spec in all_formats()}
    with_loopengt = any(name.startswith("loopengt") for name in names)
    total = 0
    parent: str | None = None
    for index in range(count):
        chain, position = divmod(index, 5)
        if with_loopengt and chain % 4 == 3:
            doc = loopengt_checkpoint(index, chain, position)
            path = root / "loopengt" / f"{chain:012x}" / "checkpoints" / f"{doc['checkpoint_id']}.json"
        else:
            doc = acf_document(index, chain, position, parent if position else None)
            parent = doc["checkpoint_id"]
            path = root / "acf" / f"{chain // 100:04d}" / f"{doc['checkpoint_id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = orjson.dumps(doc)
        path.write_bytes(data)
        total += len(data)
    return total


def warm(root: Path) -> None:
    """Read every file once (untimed), so that each timed pass finds the same cache."""
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as handle:
                handle.read()


def raw_floor(root: Path, db_path: Path) -> float:
    """Seconds to read, decode and executemany the checkpoint rows into Baton's schema."""
    make_engine(f"sqlite:///{db_path}").dispose()  # creates the schema
    warm(root)
    started = time.perf_counter()
    rows = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                doc = orjson.loads(handle.read())
            rows.append(
                (
                    doc["checkpoint_id"],
                    doc.get("task_id") or doc.get("run_id"),
                    doc["checkpoint_id"],
                    doc.get("parent_checkpoint_id"),
                    doc.get("agent_id"),
                    doc.get("status", "unknown"),
                    doc.get("emitted_at") or doc.get("created_at"),
                    orjson.dumps(doc.get("completed_steps")).decode(),
                    orjson.dumps(doc.get("remaining_steps")).decode(),
                    doc.get("task_summary"),
                    orjson.dumps(doc).decode(),
                )
            )
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA foreign_keys=OFF")
    with connection:
        connection.executemany(
            "INSERT INTO checkpoint (id, run_id, native_id, parent_native_id, agent_id, status, created_at,"
            " completed_steps, remaining_steps, summary, document, versioned) VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
            rows,
        )
    connection.close()
    return time.perf_counter() - started


def split_phases(root: Path, db_path: Path) -> tuple[float, float]:
    """Seconds of the two halves of a cold ingest, apart, in one process: reading and
    parsing every file (``read_file``), then writing the outcomes (``Store.write_batch``,
    same batch size, the log checkpointed by a thread as in a pass)."""
    names = list(walk_names([root]))
    store = Store(make_engine(f"sqlite:///{db_path}"))
    warm(root)
    with collector_paused():  # as in a pass
        started = time.perf_counter()
        outcomes = [read_file(name, None) for name in names]
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        with store.background_wal_checkpoints():
            for start in range(0, len(outcomes), BATCH_FILES):
                store.write_batch([o for o in outcomes[start : start + BATCH_FILES] if o is not None])
        return read_s, time.perf_counter() - started


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def cpu_seconds() -> float:
    """CPU time of this process and of its ended children (helpers are reaped by the pass):
    less at the mercy of a shared machine's neighbours than wall time."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of cold ingest and raw floor; medians are printed (default 3)",
    )
    parser.add_argument("--dir", type=Path, help="work folder (default: a temp folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="baton-bench-"))
    tree = work / "tree"
    try:
        tree.mkdir(parents=True, exist_ok=True)
        size = generate(tree, args.files)
        print(f"{args.files} files, {size / args.files:.0f} bytes on average, {size / 1e6:.1f} MB in {tree}")

        colds, unchangeds, floors, ratios, cpus = [], [], [], [], []
        for round_ in range(args.repeat):  # cold and floor alternate, each into a new database
            store = Store(make_engine(f"sqlite:///{work / f'baton-{round_}.db'}"))
            warm(tree)
            cpu_before = cpu_seconds()
            cold_s, cold = timed(lambda store=store: ingest_paths([tree], store))
            cpus.append(cpu_seconds() - cpu_before)
            unchanged_s, again = timed(lambda store=store: ingest_paths([tree], store))
            store.engine.dispose()
            floor_s = raw_floor(tree, work / f"floor-{round_}.db")
            colds.append(cold_s)
            unchangeds.append(unchanged_s)
            floors.append(floor_s)
            ratios.append(cold_s / floor_s)
        cold_s, unchanged_s, floor_s = median(colds), median(unchangeds), median(floors)
        read_s, write_s = split_phases(tree, work / "split.db")

        cold_rate, unchanged_rate = args.files / cold_s, args.files / unchanged_s
        ratio = median(ratios)  # each round's cold / floor: the machine's pace moves between rounds
        print(
            f"cold ingest: loaded {cold.files_loaded}, failed {cold.files_failed}, ignored {cold.files_ignored}"
        )
        print(f"re-ingest:   unchanged {again.files_unchanged}, loaded {again.files_loaded}")
        print()
        print(f"{'measure':34} {'measured':>14} {'target':>12}")
        rows = [
            ("cold ingest files/s", f"{cold_rate:,.0f}", f">= {TARGETS['cold_files_per_s']:,}"),
            ("cold ingest MB/s", f"{size / 1e6 / cold_s:,.1f}", ""),
            ("raw floor files/s", f"{args.files / floor_s:,.0f}", ""),
            ("cold ingest / raw floor (time)", f"{ratio:.2f}x", f"<= {TARGETS['floor_ratio']}x"),
            (
                "unchanged re-ingest files/s",
                f"{unchanged_rate:,.0f}",
                f">= {TARGETS['unchanged_files_per_s']:,}",
            ),
            ("  where the time goes:", "", ""),
            ("  cold ingest CPU us/file", f"{median(cpus) / args.files * 1e6:,.0f}", ""),
            ("  read + parse only files/s", f"{args.files / read_s:,.0f}", ""),
            ("  store writes only files/s", f"{args.files / write_s:,.0f}", ""),
        ]
        for name, measured, target in rows:
            print(f"{name:34} {measured:>14} {target:>12}")
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

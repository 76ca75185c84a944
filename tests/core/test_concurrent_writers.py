"""Two processes loading the same file at once (the dashboard's watcher and a `baton
ingest`, say) must leave what one of them alone would have left: never a mix of both
versions. Each writer takes the write lock before it reads which files the database knows.
"""

from __future__ import annotations

import threading
from pathlib import Path

import orjson

from core import queries
from core.db import make_engine
from core.outcomes import FileOutcome
from core.store import Store
from ingest.reading import read_file
from tests.conftest import SAMPLE_RUNS

ACF_SAMPLE = next((SAMPLE_RUNS / "acf").rglob("*.json"))
TASK = "00000000-2222-4222-8222-000000000001"


def _checkpoint(n: int) -> bytes:
    doc = orjson.loads(ACF_SAMPLE.read_bytes())
    doc = doc[0] if isinstance(doc, list) else doc
    doc.update(task_id=TASK, checkpoint_id=f"{n:08x}-1111-4111-8111-{n:012x}", parent_checkpoint_id=None)
    return orjson.dumps(doc) + b"\n"


def _version(folder: Path, name: str, numbers: list[int]) -> FileOutcome:
    """The file as one writer read it (a JSON Lines log of ACF checkpoints)."""
    path = folder / name
    path.write_bytes(b"".join(_checkpoint(n) for n in numbers))
    outcome = read_file(path, None)
    assert outcome is not None and outcome.outcome == "loaded"
    return outcome


def test_two_writers_loading_one_new_file_leave_one_version(db_url: str, tmp_path: Path) -> None:
    first, second = Store(make_engine(db_url)), Store(make_engine(db_url))
    results = []
    for trial in range(12):
        older = _version(tmp_path, "older.jsonl", [1, 2])
        newer = _version(tmp_path, "newer.jsonl", [1, 3])  # the same file, rewritten meanwhile
        older.path = newer.path = str(tmp_path / f"log-{trial}.jsonl")
        start = threading.Barrier(2)

        def write(store: Store, outcome: FileOutcome, start: threading.Barrier = start) -> None:
            start.wait()
            store.write_batch([outcome])

        threads = [
            threading.Thread(target=write, args=(first, older)),
            threading.Thread(target=write, args=(second, newer)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run_id = queries.resolve_run_id(first.engine, TASK)
        results.append(sorted(cp["native_id"][-1] for cp in queries.run_checkpoints(first.engine, run_id)))
        with first.engine.begin() as connection:  # the next trial starts from an empty database
            for table in ("checkpoint_source", "checkpoint", "run_fragment", "run", "source_file"):
                connection.exec_driver_sql(f"DELETE FROM {table}")
    assert all(found in (["1", "2"], ["1", "3"]) for found in results), results
    first.engine.dispose()
    second.engine.dispose()

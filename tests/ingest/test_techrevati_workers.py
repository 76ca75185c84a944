"""A techrevati worker dump joins its session's run (issue 21: one session recorded by several
sources is one run that lists them): the committed samples of both versions, ingested worker
first, stream first, in one call, or by two stores at once, give the same runs; a session that
goes away, or moves, takes the worker along or leaves it a run of its own again."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import queries
from core.store import Store
from core.tables import Event, RunJoin
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS
from tests.helpers import row_counts

ROOT = SAMPLE_RUNS / "techrevati"
# (worker file, the session's stream file) of each scenario
PAIRS = {
    "v0.1.0": [("circuit.worker.json", "circuit.events.json"), ("handoff.registry.json", "handoff.jsonl")],
    "v0.4.0": [
        ("waiting.worker.json", "waiting.jsonl"),
        ("circuit.worker.json", "circuit.events.json"),
        ("handoff.registry.json", "handoff.jsonl"),
    ],
}
# What a user sees of the pairs' files: (session key, status, sources, events); the handoff
# target that never ran is the run of its worker_id.
EXPECTED = {
    "v0.1.0": [
        ("coder-design-*", "paused", {"handoff.registry.json"}, 1),
        ("coder/design/-", "completed", {"handoff.jsonl", "handoff.registry.json"}, 2 + 3),
        ("fetcher/collect/-", "failed", {"circuit.events.json", "circuit.worker.json"}, 3 + 3),
        ("planner/design/-", "completed", {"handoff.jsonl", "handoff.registry.json"}, 2 + 3),
    ],
    "v0.4.0": [
        ("coder-design-*", "paused", {"handoff.registry.json"}, 1),
        ("coder/design/42", "completed", {"handoff.jsonl", "handoff.registry.json"}, 3 + 3),
        ("fetcher/collect/42", "failed", {"circuit.events.json", "circuit.worker.json"}, 6 + 3),
        ("operator/deploy/42", "waiting", {"waiting.jsonl", "waiting.worker.json"}, 3 + 3),
        ("planner/design/42", "completed", {"handoff.jsonl", "handoff.registry.json"}, 3 + 3),
    ],
}
STATUS_COUNTS = {
    "v0.1.0": {"completed": 2, "failed": 1, "paused": 1},
    "v0.4.0": {"completed": 2, "failed": 1, "paused": 1, "waiting": 1},
}


def _sources(run: dict[str, Any]) -> set[str]:
    attributes = run["attributes"]
    return {Path(p).name for p in attributes.get("sources", [attributes.get("source")])}


def _key(run: dict[str, Any]) -> str:
    native = run["native_id"]
    return native.rpartition("@")[0] if "@" in native else native.rsplit("-", 1)[0] + "-*"


def _seen(engine: Engine) -> dict[str, Any]:
    runs = queries.list_runs(engine, framework="techrevati")
    return {
        "runs": sorted(
            (_key(r), r["status"], _sources(r), r["events"], r["native_id"], r["failure_reason"])
            for r in runs
        ),
        "status_counts": queries.run_status_counts(engine),
        "rows": row_counts(engine),
    }


def _shown(seen: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [run[:4] for run in seen["runs"]]


def _copy(version: str, target: Path) -> Path:
    target.mkdir()
    for pair in PAIRS[version]:
        for name in pair:
            shutil.copy2(ROOT / version / name, target / name)
    return target


def _ingest(store: Store, folder: Path, version: str, order: str) -> None:
    workers = [folder / worker for worker, _ in PAIRS[version]]
    streams = [folder / stream for _, stream in PAIRS[version]]
    if order == "one call":
        batches = [[*workers, *streams]]
    elif order == "workers first":
        batches = [[path] for path in (*workers, *streams)]
    else:
        batches = [[path] for path in (*streams, *workers)]
    for batch in batches:
        result = ingest_paths(batch, store)
        assert result.files_failed == 0 and result.files_loaded == len(batch)


@pytest.mark.parametrize("version", sorted(PAIRS))
@pytest.mark.parametrize("order", ["workers first", "streams first", "one call"])
def test_a_worker_joins_its_sessions_run_in_any_order(
    version: str, order: str, db_url: str, tmp_path: Path, new_store: Callable[[str], Store]
) -> None:
    store = new_store(db_url)
    _ingest(store, _copy(version, tmp_path / "run"), version, order)
    seen = _seen(store.engine)
    assert _shown(seen) == EXPECTED[version]
    assert seen["status_counts"] == STATUS_COUNTS[version]  # Overview's counts: each session once
    for key, _status, sources, _events, _native, _reason in seen["runs"]:
        if len(sources) > 1:  # a joined worker: named, its transitions among the run's events
            (run,) = [r for r in queries.list_runs(store.engine, framework="techrevati") if _key(r) == key]
            worker_id = run["attributes"]["worker_id"]
            assert worker_id.startswith(key.split("/")[0] + "-")
            assert run["attributes"]["retry_count"] == 0
            with store.engine.connect() as connection:
                names = connection.execute(
                    select(Event.name).where(Event.run_id == run["id"], Event.name.like("worker.%"))
                ).scalars()
                assert list(names)[:2] == ["worker.initializing", "worker.running"]


def test_every_order_stores_the_same(tmp_path: Path, new_store: Callable[[str], Store]) -> None:
    seen = []
    for number, order in enumerate(["workers first", "streams first", "one call"]):
        store = new_store(f"sqlite:///{tmp_path / f'{number}.db'}")
        _ingest(store, _copy("v0.4.0", tmp_path / f"run{number}"), "v0.4.0", order)
        found = _seen(store.engine)
        found["runs"] = [run[:4] + run[5:] for run in found["runs"]]  # not the folder's path
        seen.append(found)
    assert seen[0] == seen[1] == seen[2]


def test_two_stores_on_one_database(db_url: str, tmp_path: Path, new_store: Callable[[str], Store]) -> None:
    """Two ingest processes (two stores), one given the workers, the other the streams."""
    folder = _copy("v0.4.0", tmp_path / "run")
    first, second = new_store(db_url), new_store(db_url)
    ingest_paths([folder / worker for worker, _ in PAIRS["v0.4.0"]], first)
    ingest_paths([folder / stream for _, stream in PAIRS["v0.4.0"]], second)
    assert _shown(_seen(first.engine)) == EXPECTED["v0.4.0"]


def _loaded_v04(store: Store, tmp_path: Path, order: str) -> tuple[Store, Path, dict[str, Any]]:
    """The 0.4 samples copied and ingested in ``order``: (store, folder, what it shows)."""
    folder = _copy("v0.4.0", tmp_path / "run")
    _ingest(store, folder, "v0.4.0", order)
    return store, folder, _seen(store.engine)


def test_a_session_gone_or_moved_takes_its_worker_along(
    db_url: str, tmp_path: Path, new_store: Callable[[str], Store]
) -> None:
    store, folder, joined = _loaded_v04(new_store(db_url), tmp_path, "one call")
    stream = folder / "waiting.jsonl"
    original = stream.read_bytes()

    # The stream rewritten an hour later (same length: read again whole): its session is
    # another one, the worker's own run again, as if the two files had never met.
    stream.write_bytes(original.replace(b"T09:25:", b"T10:25:"))
    ingest_paths([folder], store)
    runs = queries.list_runs(store.engine, framework="techrevati")
    (worker,) = [r for r in runs if "waiting.worker.json" in _sources(r)]
    assert worker["native_id"].startswith("operator-deploy-") and worker["status"] == "waiting"
    assert _sources(worker) == {"waiting.worker.json"} and worker["events"] == 3
    (later,) = [r for r in runs if "waiting.jsonl" in _sources(r)]
    assert _sources(later) == {"waiting.jsonl"} and later["events"] == 3
    assert len(runs) == len(joined["runs"]) + 1

    # The session back: joined again, as if it had never gone.
    stream.write_bytes(original)
    ingest_paths([folder], store)
    assert _seen(store.engine) == joined

    # The session's first event a microsecond later: its run has a new id, the worker follows.
    first = original.split(b"\n", 1)[0]
    stream.write_bytes(original.replace(first, first.replace(b".005010", b".005011")))
    ingest_paths([folder], store)
    runs = queries.list_runs(store.engine, framework="techrevati")
    (moved,) = [r for r in runs if "waiting.jsonl" in _sources(r)]
    assert moved["native_id"] == "operator/deploy/42@2026-11-23T09:25:32.005011+00:00"
    assert _sources(moved) == {"waiting.jsonl", "waiting.worker.json"} and moved["status"] == "waiting"
    assert moved["events"] == 6 and len(runs) == len(joined["runs"])

    # A file deleted keeps what it recorded (the session still happened): still one run.
    stream.unlink()
    ingest_paths([folder], store)
    assert len(queries.list_runs(store.engine, framework="techrevati")) == len(joined["runs"])


def test_a_worker_read_again_or_changed(
    db_url: str, tmp_path: Path, new_store: Callable[[str], Store]
) -> None:
    store, folder, joined = _loaded_v04(new_store(db_url), tmp_path, "streams first")
    worker = folder / "circuit.worker.json"
    worker.write_bytes(worker.read_bytes() + b"\n")  # changed bytes, same worker: read again
    assert ingest_paths([folder], store).files_loaded == 1
    assert _seen(store.engine) == joined
    with store.engine.connect() as connection:
        assert len(connection.execute(select(RunJoin)).all()) == 4 * 2  # two keys per worker that ran

    # The worker file replaced by one of a worker that never ran: no join, a run of its own.
    worker.write_text(worker.read_text().replace('"status": "failed"', '"status": "initializing"', 1))
    ingest_paths([folder], store)
    runs = queries.list_runs(store.engine, framework="techrevati")
    (circuit,) = [r for r in runs if "circuit.events.json" in _sources(r)]
    assert _sources(circuit) == {"circuit.events.json"} and circuit["status"] == "failed"
    assert len(runs) == len(joined["runs"]) + 1

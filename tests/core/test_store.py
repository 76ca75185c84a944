"""The store on a real database: idempotent, replaces what a changed file contributed,
keeps what a failed or deleted file loaded before."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select

from core import queries
from core.db import make_engine
from core.store import Store
from core.tables import Checkpoint, SourceFile
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS
from tests.helpers import copy_tree, row_counts

TASK = "0a4516fd-ad5c-4de9-b711-23c347dbc5cc"


def _checkpoint(
    checkpoint_id: str,
    status: str,
    parent: str | None = None,
    agent: str = "migrator-01",
    at: str = "2026-11-22T10:52:44+00:00",
) -> dict:
    doc = {
        "ac_version": "0.1.0",
        "checkpoint_id": checkpoint_id,
        "task_id": TASK,
        "agent_id": agent,
        "emitted_at": at,
        "status": status,
        "task_summary": "Migrate billing DB to schema v7",
        "completed_steps": ["snapshot"],
        "remaining_steps": ["migrate"],
    }
    if parent:
        doc["parent_checkpoint_id"] = parent
    return doc


ROOT = "e9488a09-7cf4-4805-ba4f-c8384f781c77"
CHILD = "23cff23b-f3d7-4d6a-b694-379c3bee6ad8"


def _write(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2))


def test_ingesting_twice_changes_nothing_and_reparses_nothing(tmp_path: Path, store: Store) -> None:
    tree = copy_tree(SAMPLE_RUNS / "acf", tmp_path / "acf")
    first = ingest_paths([tree], store)
    counts = row_counts(store.engine)
    assert first.files_loaded > 0 and first.files_failed == 0
    second = ingest_paths([tree], store)
    assert second.files_loaded == 0
    assert second.files_unchanged == first.files_seen
    assert row_counts(store.engine) == counts


def test_touched_file_with_same_content_is_unchanged(tmp_path: Path, store: Store) -> None:
    _write(tmp_path / "a.json", _checkpoint(ROOT, "partial"))
    ingest_paths([tmp_path], store)
    os.utime(tmp_path / "a.json", ns=(1, 1))
    again = ingest_paths([tmp_path], store)
    assert (again.files_unchanged, again.files_loaded) == (1, 0)


def test_modified_file_replaces_exactly_what_it_contributed(tmp_path: Path, store: Store) -> None:
    _write(
        tmp_path / "root.json",
        _checkpoint(ROOT, "partial", agent="migrator-00", at="2026-11-22T10:50:00+00:00"),
    )
    _write(tmp_path / "child.json", _checkpoint(CHILD, "partial", parent=ROOT))
    ingest_paths([tmp_path], store)
    [run] = queries.list_runs(store.engine)
    assert run["status"] == "running" and run["checkpoints"] == 2

    _write(
        tmp_path / "child.json",
        _checkpoint(CHILD, "failed", parent=ROOT) | {"failure_reason": "Lock timeout"},
    )
    summary = ingest_paths([tmp_path], store)
    assert (summary.files_loaded, summary.files_unchanged) == (1, 1)
    [run] = queries.list_runs(store.engine)
    assert run["status"] == "failed"
    assert run["failure_reason"] == "Lock timeout"
    assert run["checkpoints"] == 2
    statuses = {cp["native_id"]: cp["status"] for cp in queries.run_checkpoints(store.engine, run["id"])}
    assert statuses == {ROOT: "running", CHILD: "failed"}


def test_half_written_file_keeps_what_was_loaded(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "cp.json"
    _write(path, _checkpoint(ROOT, "paused"))
    ingest_paths([tmp_path], store)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    summary = ingest_paths([tmp_path], store)
    assert summary.files_failed == 1
    assert "truncated JSON" in summary.failures[0]["error"]
    [run] = queries.list_runs(store.engine)
    assert run["status"] == "paused" and run["checkpoints"] == 1
    _write(path, _checkpoint(ROOT, "completed"))
    ingest_paths([tmp_path], store)
    assert queries.list_runs(store.engine)[0]["status"] == "completed"
    assert queries.failed_files(store.engine) == []


def test_deleted_file_keeps_its_records_and_is_marked(tmp_path: Path, store: Store) -> None:
    _write(tmp_path / "cp.json", _checkpoint(ROOT, "completed"))
    ingest_paths([tmp_path], store)
    (tmp_path / "cp.json").unlink()
    ingest_paths([tmp_path], store)
    assert queries.list_runs(store.engine)[0]["checkpoints"] == 1
    with store.engine.connect() as connection:
        outcome = connection.execute(select(SourceFile.outcome)).scalar_one()
    assert outcome == "deleted"
    _write(tmp_path / "cp.json", _checkpoint(ROOT, "completed"))
    assert ingest_paths([tmp_path], store).files_loaded == 1


def test_file_that_stops_describing_a_run_removes_the_run(tmp_path: Path, store: Store) -> None:
    _write(tmp_path / "cp.json", _checkpoint(ROOT, "completed"))
    ingest_paths([tmp_path], store)
    (tmp_path / "cp.json").write_text(json.dumps({"name": "now a package.json"}))
    ingest_paths([tmp_path], store)
    # An ignored file keeps what it loaded before, like a failed one.
    assert len(queries.list_runs(store.engine)) == 1
    other = dict(_checkpoint(ROOT, "completed"), task_id="1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d")
    _write(tmp_path / "cp.json", other)
    ingest_paths([tmp_path], store)
    assert [r["native_id"] for r in queries.list_runs(store.engine)] == [other["task_id"]]


def test_forest_with_fork_restart_and_handoff(tmp_path: Path, store: Store) -> None:
    fork_a = "a1a1a1a1-0000-4000-8000-000000000001"
    fork_b = "b2b2b2b2-0000-4000-8000-000000000002"
    restart = "c3c3c3c3-0000-4000-8000-000000000003"
    docs = [
        _checkpoint(ROOT, "partial", agent="planner", at="2026-11-22T10:00:00+00:00"),
        _checkpoint(fork_a, "failed", parent=ROOT, agent="coder", at="2026-11-22T10:01:00+00:00"),
        _checkpoint(fork_b, "partial", parent=ROOT, agent="planner", at="2026-11-22T10:02:00+00:00"),
        _checkpoint(restart, "completed", agent="coder", at="2026-11-22T10:03:00+00:00"),
    ]
    (tmp_path / "task.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    ingest_paths([tmp_path], store)
    [run] = queries.list_runs(store.engine)
    assert run["status"] == "completed"  # the newest checkpoint speaks for the run
    assert run["agents"] == ["planner", "coder"]
    checkpoints = queries.run_checkpoints(store.engine, run["id"])
    by_native = {cp["native_id"]: cp for cp in checkpoints}
    roots = [cp for cp in checkpoints if cp["parent_id"] is None]
    assert {cp["native_id"] for cp in roots} == {ROOT, restart}
    assert by_native[fork_a]["parent_id"] == by_native[fork_b]["parent_id"] == by_native[ROOT]["id"]


def test_whole_sample_tree_loads_with_broken_files_recorded(tmp_path: Path, store: Store) -> None:
    summary = ingest_paths([SAMPLE_RUNS], store)
    broken = {Path(f["path"]).name for f in summary.failures}
    assert {
        "truncated_checkpoint.json",
        "empty.json",
        "invalid_utf8.json",
        "wrong_types.json",
    } <= broken
    assert {Path(bad["path"]).name for bad in summary.bad_lines} == {"bad_middle_line.jsonl"}
    assert all(Path(f["path"]).parent.name == "broken" for f in summary.failures), summary.failures
    assert summary.files_loaded > 0 and summary.runs > 0
    assert summary.files_seen == (
        summary.files_loaded + summary.files_ignored + summary.files_failed + summary.files_unchanged
    )


def test_the_database_itself_is_never_ingested(tmp_path: Path, monkeypatch) -> None:
    """Named by its folder, relatively, or directly: Baton's own SQLite file is skipped."""
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    _write(tmp_path / "cp.json", _checkpoint(ROOT, "completed"))
    monkeypatch.chdir(tmp_path)
    for roots in ([tmp_path], [Path(".")], [Path("baton.db"), Path("cp.json")], [tmp_path / "baton.db"]):
        summary = ingest_paths(roots, store)
        assert summary.files_seen == (0 if roots == [tmp_path / "baton.db"] else 1), roots
        assert summary.files_failed == summary.files_ignored == 0
    assert [path for (path,) in _paths(store)] == [str(tmp_path / "cp.json")]


def _paths(store: Store) -> list[tuple[str]]:
    with store.engine.connect() as connection:
        return list(connection.execute(select(SourceFile.path)).all())


def test_known_files_below_a_folder_are_exactly_the_files_under_it(tmp_path: Path, store: Store) -> None:
    """Neighbours whose names share the folder's as a prefix, or hold LIKE's wildcards, are
    not below it; whether the folder holds a small part of the database (looked up through
    the path index on SQLite) or most of it (every row read)."""
    root = tmp_path / "runs_100%"
    inside = [root / "a.json", root / "deep" / "b.json", root / "0.json"]
    outside = [
        tmp_path / "runs_100%0" / "c.json",
        tmp_path / "runs_100%-x" / "d.json",
        tmp_path / "runsX100%" / "e.json",
        tmp_path / "runs_100%.json",
    ] + [tmp_path / "others" / f"{n}.json" for n in range(20)]
    for n, path in enumerate(inside + outside):
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, _checkpoint(f"00000000-0000-4000-8000-{n:012d}", "completed"))
    ingest_paths([tmp_path], store)
    assert sorted(store.known_files(under=str(root))) == sorted(str(p) for p in inside)
    assert sorted(store.known_files(under=str(root) + "/")) == sorted(str(p) for p in inside)
    everything = sorted(str(p) for p in inside + outside)
    assert sorted(store.known_files(under=str(tmp_path))) == everything


def _file_ids(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return dict(connection.execute(select(SourceFile.path, SourceFile.id)).all())


def test_a_batch_of_new_and_known_files_keeps_the_known_ids_and_numbers_the_new_on(
    tmp_path: Path, store: Store
) -> None:
    """New files are numbered in the batch that adds them (on SQLite by Baton itself):
    known files keep their ids, and every checkpoint names the file that holds it."""
    first = tmp_path / "first"
    first.mkdir()
    _write(first / "root.json", _checkpoint(ROOT, "partial"))
    _write(first / "child.json", _checkpoint(CHILD, "partial", parent=ROOT))
    ingest_paths([tmp_path], store)
    before = _file_ids(store)

    _write(first / "child.json", _checkpoint(CHILD, "failed", parent=ROOT))  # known, changed
    second = tmp_path / "second"
    second.mkdir()
    others = ["6b0f2f5c-2f0e-4a51-9c1a-1f1e2d3c4b5a", "7c1a3a6d-3a1f-4b62-8d2b-2a2f3e4d5c6b"]
    for native in others:
        _write(second / f"{native}.json", _checkpoint(native, "partial", parent=CHILD))
    summary = ingest_paths([tmp_path], store)
    assert (summary.files_loaded, summary.files_unchanged) == (3, 1)

    after = _file_ids(store)
    assert {path: after[path] for path in before} == before
    new_ids = [after[path] for path in after if path not in before]
    assert len(new_ids) == 2 and min(new_ids) > max(before.values())
    query = select(Checkpoint.native_id, SourceFile.path).join(
        SourceFile, SourceFile.id == Checkpoint.source_file_id
    )
    with store.engine.connect() as connection:
        holders = {native: Path(path).name for native, path in connection.execute(query).all()}
    assert holders == {
        ROOT: "root.json",
        CHILD: "child.json",
        others[0]: f"{others[0]}.json",
        others[1]: f"{others[1]}.json",
    }

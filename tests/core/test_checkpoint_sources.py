"""A checkpoint held by two files (a document saved on its own and in a JSONL log) stays
while either file still holds it, whichever of them wrote it last."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, text

from core import queries
from core.db import make_engine
from core.migrations import MIGRATIONS
from core.store import Store
from core.tables import Checkpoint, CheckpointSource, SourceFile
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS
from tests.helpers import copy_tree

CHAIN = SAMPLE_RUNS / "acf/v0.1.0/checkpoints/fdc38a42-c7e6-4e55-b5de-4430b8518600"


def _documents() -> list[dict]:
    docs = [json.loads(path.read_text()) for path in sorted(CHAIN.glob("*.json"))]
    assert len(docs) >= 3
    return docs


def _checkpoint_ids(store: Store) -> set[str]:
    run = queries.list_runs(store.engine)[0]
    return {cp["native_id"] for cp in queries.run_checkpoints(store.engine, run["id"])}


def _write_log(path: Path, docs: list[dict], rewrite: bool = False) -> None:
    """``rewrite``: written anew, padded with blank lines to at least its old size (an
    append-only log found shorter than what was read keeps its records: not what is tested)."""
    text = "".join(json.dumps(doc) + "\n" for doc in docs)
    if rewrite:
        text += "\n" * max(0, path.stat().st_size - len(text))
    path.write_text(text)


def test_a_checkpoint_stays_while_any_file_holds_it(store: Store, tmp_path: Path) -> None:
    first, *rest = _documents()
    # "a_saved.json" is walked before "z_log.jsonl": the log writes the shared checkpoint last.
    (tmp_path / "a_saved.json").write_text(json.dumps(first))
    log = tmp_path / "z_log.jsonl"
    _write_log(log, [first, *rest])
    ingest_paths([tmp_path], store)
    everything = {doc["checkpoint_id"] for doc in [first, *rest]}
    assert _checkpoint_ids(store) == everything

    # The log is rewritten without the shared checkpoint: the saved file still holds it.
    _write_log(log, rest, rewrite=True)
    summary = ingest_paths([tmp_path], store)
    assert summary.files_loaded == 1
    assert _checkpoint_ids(store) == everything

    # The saved file is rewritten to another document: now no file holds it.
    other = dict(rest[0], checkpoint_id="0f6f9d47-2f43-4b0e-9a6b-5b1c2b0e6a11")
    (tmp_path / "a_saved.json").write_text(json.dumps(other))
    ingest_paths([tmp_path], store)
    assert _checkpoint_ids(store) == (everything - {first["checkpoint_id"]}) | {other["checkpoint_id"]}
    run = queries.list_runs(store.engine)[0]
    assert run["checkpoints"] == len(everything)


def _links(store: Store) -> set[tuple[str, str]]:
    """(checkpoint native id, file name) of every extra holder recorded."""
    query = (
        select(Checkpoint.native_id, SourceFile.path)
        .join(CheckpointSource, CheckpointSource.checkpoint_id == Checkpoint.id)
        .join(SourceFile, SourceFile.id == CheckpointSource.source_file_id)
    )
    with store.engine.connect() as connection:
        return {(native, Path(path).name) for native, path in connection.execute(query).all()}


def test_only_files_besides_the_stored_one_are_recorded(store: Store, tmp_path: Path) -> None:
    first, *rest = _documents()
    (tmp_path / "a_saved.json").write_text(json.dumps(first))
    _write_log(tmp_path / "z_log.jsonl", [first, *rest])
    ingest_paths([tmp_path], store)
    assert _links(store) == {(first["checkpoint_id"], "a_saved.json")}  # the log's copy is stored

    (tmp_path / "a_saved.json").write_text(json.dumps(first, indent=1))  # written again: now stored
    ingest_paths([tmp_path], store)
    assert _links(store) == {(first["checkpoint_id"], "z_log.jsonl")}


def _as_the_version_before(store: Store, migration: str) -> None:
    version = MIGRATIONS.index(next(m for m in MIGRATIONS if m.__name__ == migration)) + 1
    with store.engine.begin() as connection:
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()


def test_migration_keeps_only_the_extra_holders_of_a_database_that_linked_every_file(
    db_url: str, tmp_path: Path
) -> None:
    store = Store(make_engine(db_url))
    first, *rest = _documents()
    (tmp_path / "a_saved.json").write_text(json.dumps(first))
    log = tmp_path / "z_log.jsonl"
    _write_log(log, [first, *rest])
    ingest_paths([tmp_path], store)
    with store.engine.begin() as connection:  # the version before also linked the stored file
        connection.execute(
            text(
                "INSERT INTO checkpoint_source (checkpoint_id, source_file_id)"
                " SELECT id, source_file_id FROM checkpoint"
            )
        )
    assert len(_links(store)) == len(rest) + 2
    _as_the_version_before(store, "_keep_only_extra_checkpoint_holders")

    store = Store(make_engine(db_url))
    assert _links(store) == {(first["checkpoint_id"], "a_saved.json")}
    _write_log(log, rest, rewrite=True)  # the stored copy's file lets go: the saved file still holds it
    ingest_paths([tmp_path], store)
    everything = {doc["checkpoint_id"] for doc in [first, *rest]}
    assert _checkpoint_ids(store) == everything and _links(store) == set()
    store.engine.dispose()


def test_migration_links_the_checkpoints_of_an_older_database(db_url: str, tmp_path: Path) -> None:
    """A database from before files were linked: each checkpoint is its stored file's, and
    a file written anew replaces exactly its own."""
    tree = copy_tree(CHAIN, tmp_path / "chain")
    store = Store(make_engine(db_url))
    ingest_paths([tree], store)
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE checkpoint_source"))
    _as_the_version_before(store, "_add_checkpoint_sources")

    store = Store(make_engine(db_url))
    before = _checkpoint_ids(store)
    assert len(before) >= 3 and _links(store) == set()
    changed = sorted(tree.glob("*.json"))[0]
    old = json.loads(changed.read_text())
    changed.write_text(json.dumps(dict(old, checkpoint_id="0f6f9d47-2f43-4b0e-9a6b-5b1c2b0e6a11")))
    ingest_paths([tree], store)
    assert _checkpoint_ids(store) == (before - {old["checkpoint_id"]}) | {
        "0f6f9d47-2f43-4b0e-9a6b-5b1c2b0e6a11"
    }
    store.engine.dispose()

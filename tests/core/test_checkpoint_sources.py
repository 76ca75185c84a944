"""A checkpoint held by two files (a document saved on its own and in a JSONL log) stays
while either file still holds it, whichever of them wrote it last."""

from __future__ import annotations

import json
from pathlib import Path

from core import queries
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

CHAIN = SAMPLE_RUNS / "acf/v0.1.0/checkpoints/fdc38a42-c7e6-4e55-b5de-4430b8518600"


def _documents() -> list[dict]:
    docs = [json.loads(path.read_text()) for path in sorted(CHAIN.glob("*.json"))]
    assert len(docs) >= 3
    return docs


def _checkpoint_ids(store: Store) -> set[str]:
    run = queries.list_runs(store.engine)[0]
    return {cp["native_id"] for cp in queries.run_checkpoints(store.engine, run["id"])}


def _write_log(path: Path, docs: list[dict]) -> None:
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))


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
    _write_log(log, rest)
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


def test_migration_links_the_checkpoints_of_an_older_database(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import func, select, text

    from core.db import make_engine
    from core.migrations import MIGRATIONS
    from core.tables import Checkpoint, CheckpointSource

    store = Store(make_engine(db_url))
    ingest_paths([SAMPLE_RUNS / "acf"], store)
    version = MIGRATIONS.index(next(m for m in MIGRATIONS if m.__name__ == "_add_checkpoint_sources")) + 1
    with store.engine.begin() as connection:  # the database as the version before made it
        connection.execute(text("DROP TABLE checkpoint_source"))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()

    engine = make_engine(db_url)
    with engine.connect() as connection:
        checkpoints = connection.execute(select(func.count()).select_from(Checkpoint)).scalar()
        links = connection.execute(select(func.count()).select_from(CheckpointSource)).scalar()
    engine.dispose()
    assert checkpoints > 20 and links == checkpoints

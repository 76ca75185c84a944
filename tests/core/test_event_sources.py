"""An event held by two files (a trace and a copy of it kept elsewhere in the watched tree)
stays while either file still holds it, in whichever order they were loaded, and goes
once neither does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from core import queries
from core.db import make_engine
from core.migrations import MIGRATIONS
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

TRACE = SAMPLE_RUNS / "loopengt/v0.1.0/.loopengt/runs/444a995107c3.trace.jsonl"


def _lines() -> list[bytes]:
    lines = TRACE.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 20
    return lines


def _events(store: Store) -> int:
    (run,) = queries.list_runs(store.engine)
    return run["events"]


@pytest.mark.parametrize("rewritten", ["a_trace.jsonl", "z_copy.jsonl"])  # first or last loaded
def test_an_event_stays_while_any_file_holds_it(store: Store, tmp_path: Path, rewritten: str) -> None:
    lines = _lines()
    for name in ("a_trace.jsonl", "z_copy.jsonl"):
        (tmp_path / name).write_bytes(b"".join(lines))
    ingest_paths([tmp_path], store)
    assert _events(store) == len(lines)

    # One file is rewritten with its first ten lines only: the other still holds the rest.
    (tmp_path / rewritten).write_bytes(b"".join(lines[:10]))
    assert ingest_paths([tmp_path], store).files_loaded == 1
    assert _events(store) == len(lines)

    # The other is cut to five lines: lines 6-10 are still in the first, the rest nowhere.
    other = "z_copy.jsonl" if rewritten == "a_trace.jsonl" else "a_trace.jsonl"
    (tmp_path / other).write_bytes(b"".join(lines[:5]))
    ingest_paths([tmp_path], store)
    assert _events(store) == 10


def test_files_loaded_in_separate_passes_share_their_events(store: Store, tmp_path: Path) -> None:
    lines = _lines()
    trace, copy = tmp_path / "runs" / "t.jsonl", tmp_path / "backup" / "t.jsonl"
    for path in (trace, copy):
        path.parent.mkdir()
        path.write_bytes(b"".join(lines))
    ingest_paths([trace], store)
    ingest_paths([copy], store)
    trace.write_bytes(b"".join(lines[:3]))
    ingest_paths([trace], store)
    assert _events(store) == len(lines)


def test_migration_adds_the_table_to_an_older_database(db_url: str, tmp_path: Path) -> None:
    lines = _lines()
    trace, copy = tmp_path / "a.trace.jsonl", tmp_path / "b.trace.jsonl"
    trace.write_bytes(b"".join(lines))
    store = Store(make_engine(db_url))
    ingest_paths([trace], store)
    version = [m.__name__ for m in MIGRATIONS].index("_add_event_sources") + 1
    with store.engine.begin() as connection:  # the database as the version before made it
        connection.execute(text("DROP TABLE event_source"))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()

    store = Store(make_engine(db_url))
    copy.write_bytes(b"".join(lines))
    summary = ingest_paths([copy], store)
    assert (summary.files_loaded, summary.files_failed) == (1, 0)
    trace.write_bytes(b"".join(lines[:3]))  # the file loaded before the upgrade lets go
    ingest_paths([trace], store)
    assert _events(store) == len(lines)
    store.engine.dispose()

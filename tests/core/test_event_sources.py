"""An event held by two files (a trace and a copy of it kept elsewhere in the watched tree)
stays while either file still holds it, in whichever order they were loaded, and goes
once neither does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import queries
from core.db import make_engine
from core.migrations import MIGRATIONS
from core.store import Store
from core.tables import Event
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

    # One file is rewritten with its first ten lines only (and blank lines to its old size: a
    # log found shorter than what was read keeps its records): the other still holds the rest.
    pad = b"\n" * len(b"".join(lines[10:]))
    (tmp_path / rewritten).write_bytes(b"".join(lines[:10]) + pad)
    assert ingest_paths([tmp_path], store).files_loaded == 1
    assert _events(store) == len(lines)

    # The other is cut to five lines: lines 6-10 are still in the first, the rest nowhere.
    other = "z_copy.jsonl" if rewritten == "a_trace.jsonl" else "a_trace.jsonl"
    (tmp_path / other).write_bytes(b"".join(lines[:5]) + b"\n" * len(b"".join(lines[5:])))
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


# A producer that writes its trace to both of loopengt's stores, as the real package writes them.
BOTH_STORES = """
import asyncio, sys
from pathlib import Path
from loopengt.core.tracing.events import AgentEvent, StepEvent
from loopengt.core.tracing.store import JSONLTraceStore, SQLiteTraceStore

root = Path(sys.argv[1])
stores = [JSONLTraceStore(directory=root / "runs"), SQLiteTraceStore(db_path=root / "traces.db")]
common = {"run_id": "b0th5t0res01", "step_name": "draft", "agent_name": "writer"}
events = [
    StepEvent(event_type="step.start", attempt=1, **common),
    AgentEvent(event_type="agent.response", prompt_tokens=1200, completion_tokens=340, model="gpt-4o-mini", **common),
    AgentEvent(event_type="agent.response", prompt_tokens=800, completion_tokens=90, model="gpt-4o-mini", **common),
    StepEvent(event_type="step.complete", attempt=1, **common),
]

async def main():
    for event in events:
        for store in stores:
            await store.write(event)
    await stores[1].close()  # else its connection's thread keeps the process alive

asyncio.run(main())
"""


def _both_stores(folder: Path) -> tuple[Path, Path]:
    from tests.framework_envs import framework_python

    folder.mkdir()
    python = framework_python("loopengt", "0.1.0")
    subprocess.run([str(python), "-c", BOTH_STORES, str(folder)], check=True, timeout=60)
    return folder / "runs" / "b0th5t0res01.trace.jsonl", folder / "traces.db"


@pytest.mark.parametrize("first", ["trace", "database", "together"])
def test_an_event_in_both_loopengt_stores_keeps_the_copy_with_token_counts(
    store: Store, tmp_path: Path, first: str
) -> None:
    trace, database = _both_stores(tmp_path / "loopengt")
    if first == "together":
        ingest_paths([tmp_path / "loopengt"], store)
    else:
        ingest_paths([trace if first == "trace" else database], store)
        ingest_paths([database if first == "trace" else trace], store)
    (run,) = queries.list_runs(store.engine)
    # traces.db stores no token counts and no model (loopengt drops subclass fields there).
    assert (run["events"], run["input_tokens"], run["output_tokens"]) == (4, 2000, 430)
    with store.engine.connect() as connection:
        models = connection.execute(select(Event.model).where(Event.name == "agent.response")).scalars().all()
    assert models == ["gpt-4o-mini", "gpt-4o-mini"]
    # The trace goes: the events stay (traces.db holds them), with what they said.
    trace.unlink()
    ingest_paths([tmp_path / "loopengt"], store)
    database.unlink()
    (run,) = queries.list_runs(store.engine)
    assert (run["events"], run["input_tokens"]) == (4, 2000)

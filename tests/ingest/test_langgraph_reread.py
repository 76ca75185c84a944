"""A LangGraph database grown by real langgraph is re-read by its changed threads only: the
runs of those threads replace the file's earlier records of them, the other threads stay
as stored, and the result is what a cold ingest of the same file gives."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core import ids
from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths
from ingest.parsers.langgraph import checkpoints as lg
from ingest.reading import read_file
from tests.conftest import REPO

pytest.importorskip("langgraph.checkpoint.sqlite")
sys.path.insert(0, str(REPO / "sample_runs" / "generators"))
import make_langgraph as m  # noqa: E402  (drives the real packages; needs the path above)
from langgraph.checkpoint.sqlite import SqliteSaver  # noqa: E402

THREADS = ("a", "b", "c")


class App:
    """Real langgraph writing chats (one thread each of THREADS) into ``checkpoints.sqlite``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "checkpoints.sqlite"
        self.turns = dict.fromkeys(THREADS, 0)

    def chat(self, thread: str, turns: int = 1) -> None:
        """``turns`` more turns of ``thread``; the app closes the database after (the -wal is folded)."""
        with sqlite3.connect(str(self.path), check_same_thread=False) as connection:
            saver = SqliteSaver(connection)
            graph = m.chat_graph(f"{thread}x").compile(checkpointer=saver)
            for _ in range(turns):
                self.turns[thread] += 1
                n = self.turns[thread]
                graph.invoke(
                    m.ask(f"question {n}", f"{thread}-h{n}"), {"configurable": {"thread_id": thread}}
                )
        connection.close()

    def delete(self, thread: str) -> None:
        with sqlite3.connect(str(self.path), check_same_thread=False) as connection:
            SqliteSaver(connection).delete_thread(thread)
        connection.close()

    def run_id(self, thread: str) -> str:
        return ids.run_id(lg.FRAMEWORK, lg.run_native_id(thread, str(self.path.resolve())))


def _dump(engine: Engine) -> dict[str, Any]:
    """What the database holds of its runs: every column, bar the write times and an
    event's number within its file's read (``seq``: a re-read numbers its events anew)."""
    with engine.connect() as connection:

        def rows(query: str) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in connection.execute(text(query))]

        runs = rows("SELECT * FROM run ORDER BY id")
        for run in runs:
            run.pop("updated_at")
        events = rows("SELECT * FROM event ORDER BY id")
        for event in events:
            event.pop("seq")
        return {
            "runs": runs,
            "fragments": rows(
                "SELECT run_id, source_file_id, priority, data FROM run_fragment ORDER BY run_id"
            ),
            "checkpoints": rows("SELECT * FROM checkpoint ORDER BY id"),
            "events": events,
        }


@pytest.fixture
def app(tmp_path: Path) -> App:
    folder = tmp_path / "agent"
    folder.mkdir()
    app = App(folder)
    for thread in THREADS:
        app.chat(thread, 2)
    return app


def _cold(app: App, tmp_path: Path, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    ingest_paths([app.path.parent], Store(engine))
    return engine


def test_a_grown_thread_is_reread_alone_and_gives_what_a_cold_ingest_gives(app: App, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'baton.db'}")
    store = Store(engine)
    first = ingest_paths([app.path.parent], store)
    assert first.checkpoints == 3 * 6  # 2 turns of 3 checkpoints per thread
    untouched = {t: r for t, r in _dump(engine).items()}

    app.chat("b", 2)  # thread b grows by two turns; a and c are left alone
    known = store.known_files([str(app.path)])[str(app.path)]
    outcome = read_file(app.path, known)
    assert outcome is not None and outcome.outcome == "loaded"
    assert outcome.replaces_runs == [app.run_id("b")]
    assert outcome.parsed is not None
    assert [r.native_id.split("@")[0] for r in outcome.parsed.runs] == ["b"]
    assert len(outcome.parsed.checkpoints) == 4 * 3  # b's checkpoints only: a's and c's not parsed

    summary = ingest_paths([app.path.parent], store)
    assert (summary.files_loaded, summary.checkpoints) == (1, 12)
    assert summary.touched_runs == {app.run_id("b")}
    grown = _dump(engine)
    assert grown == _dump(_cold(app, tmp_path, "cold.db"))
    # a and c are the rows stored by the first ingest, untouched.
    kept = {app.run_id("a"), app.run_id("c")}
    for table in ("checkpoints", "events", "fragments"):
        key = "run_id"
        assert [r for r in grown[table] if r[key] in kept] == [r for r in untouched[table] if r[key] in kept]
    b_run = next(r for r in grown["runs"] if r["id"] == app.run_id("b"))
    assert b_run["checkpoint_count"] == 12 and b_run["task"] == "question 1"

    # Unchanged since: a stat.
    assert read_file(app.path, store.known_files([str(app.path)])[str(app.path)]) is None


def test_a_deleted_thread_leaves_with_a_whole_read(app: App, tmp_path: Path) -> None:
    """``delete_thread`` removes rows seen before: the file is read whole, and the thread's
    run is no longer held by it, as a cold ingest of the file would say."""
    engine = make_engine(f"sqlite:///{tmp_path / 'baton.db'}")
    store = Store(engine)
    ingest_paths([app.path.parent], store)
    app.delete("a")
    app.chat("c")
    outcome = read_file(app.path, store.known_files([str(app.path)])[str(app.path)])
    assert outcome is not None and outcome.outcome == "loaded" and outcome.replaces_runs is None
    assert outcome.parsed is not None and {r.native_id.split("@")[0] for r in outcome.parsed.runs} == {
        "b",
        "c",
    }
    summary = ingest_paths([app.path.parent], store)
    assert summary.checkpoints == 6 + 9
    after = _dump(engine)
    assert app.run_id("a") not in {r["id"] for r in after["runs"]}
    assert after == _dump(_cold(app, tmp_path, "cold.db"))
    # And the next growth is read by thread again.
    app.chat("b")
    outcome = read_file(app.path, store.known_files([str(app.path)])[str(app.path)])
    assert outcome is not None and outcome.replaces_runs == [app.run_id("b")]


def test_a_folded_wal_with_no_new_row_replaces_nothing(app: App, tmp_path: Path) -> None:
    """The bytes change (here the header's user_version; a -wal folded into the file does
    the same) but no row does: nothing is parsed or replaced, and the new size and mtime are
    stored so the next re-ingest is a stat."""
    engine = make_engine(f"sqlite:///{tmp_path / 'baton.db'}")
    store = Store(engine)
    ingest_paths([app.path.parent], store)
    before = _dump(engine)
    with sqlite3.connect(str(app.path)) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    summary = ingest_paths([app.path.parent], store)
    assert (summary.files_loaded, summary.checkpoints, summary.touched_runs) == (1, 0, set())
    assert _dump(engine) == before
    assert read_file(app.path, store.known_files([str(app.path)])[str(app.path)]) is None

"""Real langgraph + langgraph-checkpoint-sqlite (the dev extra) write a thread into a temp
folder while a real `baton watch` reads it: the run's checkpoints and status follow what
langgraph itself reports (``get_state_history``, ``get_state``) as the thread grows, through
an interrupt and its resume, and the folder is never changed by Baton."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.db import make_engine
from core.store import Store
from tests.conftest import REPO
from tests.ingest.test_read_only_sources import _env, folder_state

pytest.importorskip("langgraph.checkpoint.sqlite")
sys.path.insert(0, str(REPO / "sample_runs" / "generators"))
import make_langgraph as m  # noqa: E402  (drives the real packages; needs the path above)
from langgraph.checkpoint.sqlite import SqliteSaver  # noqa: E402
from langgraph.types import Command  # noqa: E402

DEADLINE = 30.0


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


class Agent:
    """A LangGraph app writing ``checkpoints.sqlite``: the approval graph (draft, then an
    interrupt asking a human, then the refund) on thread ``refund``, a chat on ``other``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "checkpoints.sqlite"
        self.connection: sqlite3.Connection | None = None
        self.open()
        assert self.connection is not None
        self.graph = m.approval_graph().compile(checkpointer=self.saver)
        self.config: dict[str, Any] = {"configurable": {"thread_id": "refund"}}

    def open(self) -> None:
        self.connection = sqlite3.connect(str(self.path), check_same_thread=False)
        self.saver = SqliteSaver(self.connection)
        self.saver.setup()
        if hasattr(self, "graph"):
            self.graph = m.approval_graph().compile(checkpointer=self.saver)

    def close(self) -> None:
        """The app exits: its connection closes (SQLite folds the -wal into the file)."""
        assert self.connection is not None
        self.connection.close()
        self.connection = None

    def history(self) -> list[str]:
        """The thread's checkpoint ids, as langgraph lists them."""
        return [s.config["configurable"]["checkpoint_id"] for s in self.graph.get_state_history(self.config)]


def _run(engine: Engine, thread: str) -> dict[str, Any] | None:
    runs = [r for r in queries.list_runs(engine) if r["native_id"].split("@")[0] == thread]
    return runs[0] if runs else None


def _wait_for(check: Callable[[], bool], what: str, watch: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if check():
            return
        assert watch.poll() is None, f"baton watch stopped: {watch.communicate()}"
        time.sleep(0.1)
    raise AssertionError(f"not within {DEADLINE:.0f} s: {what}")


def _matches(engine: Engine, expected: set[str], status: str) -> Callable[[], bool]:
    """The run of thread ``refund`` holds exactly the checkpoints langgraph listed, with ``status``."""

    def check() -> bool:
        run = _run(engine, "refund")
        if run is None or run["status"] != status:
            return False
        stored = {c["native_id"] for c in queries.run_checkpoints(engine, run["id"])}
        return stored == expected

    return check


@pytest.fixture
def watched(tmp_path: Path, private_tmp: Path) -> Iterator[tuple[Agent, Path]]:
    folder = tmp_path / "agent"
    folder.mkdir()
    agent = Agent(folder)
    try:
        yield agent, folder
    finally:
        if agent.connection is not None:
            agent.close()


def test_a_thread_growing_while_baton_watch_runs_follows_langgraph(
    watched: tuple[Agent, Path], tmp_path: Path, private_tmp: Path
) -> None:
    agent, folder = watched
    chat = m.chat_graph("ot").compile(checkpointer=agent.saver)
    chat.invoke(m.ask("question 1", "ot-h1"), {"configurable": {"thread_id": "other"}})
    agent.graph.invoke(m.ask("Please refund order A-1001.", "rf-h1"), agent.config)
    state = agent.graph.get_state(agent.config)
    assert state.next == ("approve",) and state.interrupts  # langgraph: waiting on the human
    first = set(agent.history())
    agent.close()
    before = folder_state(folder)
    assert list(before) == ["checkpoints.sqlite"]

    db_url = f"sqlite:///{tmp_path / 'baton.db'}"
    engine = make_engine(db_url)
    watch = subprocess.Popen(
        [sys.executable, "-m", "baton", "watch", str(folder), "--db", db_url],
        env=_env(private_tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # 1. Loaded as written: waiting, with langgraph's checkpoints, the question shown.
        _wait_for(_matches(engine, first, "waiting"), "the waiting thread loaded", watch)
        run = _run(engine, "refund")
        assert run is not None
        detail = queries.get_run(engine, run["id"])
        assert detail["attributes"]["interrupt"] == {
            "question": "Refund $120 to order A-1001?",
            "amount": 120,
        }
        assert folder_state(folder) == before

        # 2. The app starts again and answers the interrupt; it keeps the database open, so
        #    the new checkpoints are in its -wal only.
        agent.open()
        agent.connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
        waiting_ids = set(agent.history())
        result = agent.graph.invoke(Command(resume="approved"), agent.config)
        assert result["messages"][-1].content == "Refund approved: $120 sent."
        assert not agent.graph.get_state(agent.config).next  # langgraph: finished
        grown = set(agent.history())
        assert grown > waiting_ids
        written = folder_state(folder)
        assert written["checkpoints.sqlite"] == before["checkpoints.sqlite"]  # all in the -wal
        assert "checkpoints.sqlite-wal" in written
        _wait_for(_matches(engine, grown, "completed"), "the resumed thread's new checkpoints", watch)
        assert folder_state(folder) == written  # Baton read the -wal and changed none of it

        # 3. The thread grows once more: a new question, answered, another interrupt.
        agent.graph.invoke(m.ask("And order A-1002 too?", "rf-h2"), agent.config)
        assert agent.graph.get_state(agent.config).interrupts
        third = set(agent.history())
        assert third > grown
        written = folder_state(folder)
        _wait_for(_matches(engine, third, "waiting"), "the third turn, waiting again", watch)
        assert folder_state(folder) == written

        # 4. The app exits (the -wal is folded into the file): the same thread, read again.
        agent.close()
        closed = folder_state(folder)
        assert list(closed) == ["checkpoints.sqlite"]
        size = agent.path.stat().st_size

        def reread() -> bool:
            known = Store(engine).known_files([str(agent.path)]).get(str(agent.path))
            return known is not None and known.size == size

        _wait_for(reread, "the folded database read again", watch)
        assert _matches(engine, third, "waiting")()
        other = _run(engine, "other")
        assert other is not None and other["status"] == "completed"
        assert folder_state(folder) == closed
    finally:
        watch.send_signal(signal.SIGTERM)
        _out, err = watch.communicate(timeout=DEADLINE)
        engine.dispose()
    assert watch.returncode == 0, err
    assert list(private_tmp.iterdir()) == []

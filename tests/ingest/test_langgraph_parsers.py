"""LangGraph checkpoint databases written by the real packages (sample_runs/langgraph/),
loaded into a real store: runs per thread, lineage, status, tokens, costs, secrets."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.annotate import annotate_runs
from core.costs import costs_by
from core.store import Store
from ingest.content import decode
from ingest.loader import ingest_paths
from ingest.parsers.langgraph import checkpoints as lg
from ingest.reading import read_file
from tests.conftest import SAMPLE_RUNS
from tests.helpers import copy_tree

LANGGRAPH = SAMPLE_RUNS / "langgraph"
VERSIONS = ["lgcs-1.0.4", "lgcs-2.0.11", "lgcs-3.1.2"]
SECRET = "sk-proj-Zq3xV8mN2pL5rT9wK4yB7cF1hJ6dG0sA"


def _runs(engine: Engine, version: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(database file name, thread id) -> annotated run, for one version folder."""
    out = {}
    for run in annotate_runs(engine, queries.list_runs(engine)):
        thread, _, path = run["native_id"].partition("@")
        if f"/{version}/" in path:
            out[(Path(path).name, thread)] = run
    return out


def _events(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    from core import timeline

    order = timeline.run_order(engine, run_id)
    rows = timeline.event_rows(engine, order.ids)
    return [rows[i] for i in order.ids]


def assert_langgraph_scenarios(engine: Engine, version: str) -> None:
    """What every sample thread of ``version`` must show (also run on fresh files)."""
    legacy = version.startswith("lgcs-1.")
    runs = _runs(engine, version)
    main = {thread: run for (name, thread), run in runs.items() if name == "checkpoints.sqlite"}
    assert set(main) == {"tool-loop", "waiting", "resumed", "node-error", "fork", "subgraph", "supervisor"}
    finished = "unknown" if legacy else "completed"
    for thread in ("tool-loop", "resumed", "fork", "subgraph", "supervisor"):
        assert main[thread]["status"] == finished, thread
        assert ("status" in main[thread]["inferred"]) == legacy
    # A waiting thread shows what the graph asked the human.
    waiting = main["waiting"]
    assert waiting["status"] == "waiting"
    assert waiting["attributes"]["interrupt"] == {"question": "Refund $120 to order A-1001?", "amount": 120}
    # A node error: failed, the exception text kept, classed by the taxonomy.
    failed = main["node-error"]
    assert failed["status"] == "failed" and "upstream returned 503" in failed["failure_reason"]
    assert failed["failure_reason"].startswith("ConnectionError(")
    assert failed["failure_class"] == "dependency_failed"
    # Tokens once per AI message: 4 calls, 2,734 input of which 2,048 cache reads.
    loop = main["tool-loop"]
    assert (loop["input_tokens"], loop["output_tokens"], loop["cache_read_tokens"]) == (2734, 154, 2048)
    events = _events(engine, loop["id"])
    calls = [e for e in events if e["kind"] == "llm_call"]
    assert len(calls) == 4 and {e["model"] for e in calls} == {"gpt-4o-mini-2024-07-18"}
    results = [e for e in events if e["name"] == "tool_message"]
    assert [e["tool"] for e in results] == ["lookup_customer", "lookup_customer", "get_shipping_status"]
    assert [bool(e["error"]) for e in results] == [True, False, False]
    assert "timed out" in results[0]["error"]
    assert len([e for e in events if e["name"] == "tool_call"]) == 3
    # The supervisor's handoffs: three agents, Anthropic cache reads and writes priced apart.
    supervisor = main["supervisor"]
    assert set(supervisor["agents"]) >= {"supervisor", "researcher", "writer"}
    (cost,) = [c.to_dict() for c in costs_by(engine, by="run") if c.key == supervisor["id"]]
    assert (cost["calls"], cost["input_tokens"], cost["cache_read_tokens"], cost["cache_write_tokens"]) == (
        5,
        1200,  # 5,400 input less 3,600 cache reads and 600 cache writes
        3600,
        600,
    )
    assert cost["provenance"] == "computed"
    # claude-sonnet-4: $3 / $15 per 1M, cache reads $0.30, writes $3.75
    assert cost["cost_usd"] == pytest.approx((1200 * 3 + 335 * 15 + 3600 * 0.3 + 600 * 3.75) / 1e6)
    # Lineage: a fork by update_state is a sibling of the original child.
    fork = queries.run_checkpoints(engine, main["fork"]["id"], with_documents=True)
    children: dict[str, list[dict[str, Any]]] = {}
    for cp in fork:
        if cp["parent_id"]:
            children.setdefault(cp["parent_id"], []).append(cp)
    forked = [kids for kids in children.values() if len(kids) > 1]
    assert len(forked) == 1
    assert "update" in {cp["document"]["metadata"]["source"] for cp in forked[0]}
    assert sum(1 for cp in fork if cp["parent_id"] is None) == 1
    # A subgraph's checkpoints nest under the parent graph's checkpoint that ran it.
    sub = queries.run_checkpoints(engine, main["subgraph"]["id"], with_documents=True)
    by_id = {cp["id"]: cp for cp in sub}
    inner = [cp for cp in sub if cp["document"]["checkpoint_ns"]]
    assert len(inner) == 4 and all(cp["document"]["checkpoint_ns"].startswith("research:") for cp in inner)
    (first,) = [cp for cp in inner if not by_id[cp["parent_id"]]["document"]["checkpoint_ns"]]
    assert by_id[first["parent_id"]]["document"]["checkpoint_ns"] == ""
    assert {"research/search", "research/summarize"} <= set(main["subgraph"]["agents"])
    # Secrets copied from the config into the metadata are never stored (lgcs 2+ copy them).
    loop_checkpoints = queries.run_checkpoints(engine, loop["id"], with_documents=True)
    assert SECRET not in orjson.dumps([cp["document"] for cp in loop_checkpoints]).decode()
    if not legacy:
        assert all(cp["attributes"]["redacted_metadata"] == ["openai_api_key"] for cp in loop_checkpoints)
        assert {cp["document"]["metadata"]["user"] for cp in loop_checkpoints} == {"dana"}
    # A long chat that trims its history: every reply counted once, from earlier checkpoints.
    long = runs[("long.sqlite", "1")]
    assert long["checkpoints"] == 300 and long["input_tokens"] == sum(200 + 10 * n for n in range(1, 101))
    # A database still open by its writer: the turns only in its -wal load too.
    live = runs[("live.sqlite", "1")]
    assert live["checkpoints"] == 12 and live["input_tokens"] == 210 + 220 + 230 + 240
    if not legacy:  # a pickled value is recorded as undecodable; the rest of the thread loads
        pickled = runs[("pickled.sqlite", "pickled")]
        assert pickled["status"] == "unknown" and pickled["input_tokens"] == 250
        documents = [
            cp["document"] for cp in queries.run_checkpoints(engine, pickled["id"], with_documents=True)
        ]
        notes = [n for doc in documents for n in doc.get("notes", [])]
        assert notes and all("never unpickled" in n for n in notes)


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    # A copy: opening a WAL database read-only may leave -shm files beside it.
    return copy_tree(LANGGRAPH, tmp_path / "langgraph")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_sample_thread_loads_as_documented(version: str, samples: Path, store: Store) -> None:
    summary = ingest_paths([samples / version], store)
    assert summary.files_failed == 0 and summary.files_ignored == 0
    assert_langgraph_scenarios(store.engine, version)


def test_each_database_is_recognised_by_its_tables_whatever_its_name(samples: Path, tmp_path: Path) -> None:
    for path in sorted(samples.rglob("*.sqlite")):
        renamed = tmp_path / "renamed" / path.parent.name / f"{path.stem}.data"
        renamed.parent.mkdir(parents=True, exist_ok=True)
        renamed.write_bytes(path.read_bytes())
        if Path(f"{path}-wal").exists():
            Path(f"{renamed}-wal").write_bytes(Path(f"{path}-wal").read_bytes())
        outcome = read_file(renamed, None)
        assert outcome.outcome == "loaded" and outcome.format == "langgraph.checkpoints", outcome.error


def test_a_techrevati_checkpoints_table_is_not_taken_for_langgraph(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE checkpoints (id TEXT, thread_id TEXT, created_at TEXT, state_json TEXT)")
    assert not lg.detect(decode(path, path.read_bytes()))


def test_a_hostile_blob_is_a_note_and_the_thread_still_loads(samples: Path, store: Store) -> None:
    db_path = samples / "lgcs-3.1.2" / "checkpoints.sqlite"
    with sqlite3.connect(db_path) as db:
        # A pickle that would run a command, an encrypted value and msgpack cut short.
        db.execute(
            "UPDATE writes SET type = 'pickle', value = ? WHERE thread_id = 'tool-loop' AND channel = 'messages'",
            (b"cos\nsystem\n(S'touch /tmp/baton-pwned'\ntR.",),
        )
        db.execute("UPDATE checkpoints SET type = 'msgpack+aes' WHERE thread_id = 'waiting'")
        db.execute("UPDATE checkpoints SET checkpoint = substr(checkpoint, 1, 5) WHERE thread_id = 'fork'")
    summary = ingest_paths([db_path], store)
    assert summary.files_failed == 0 and not Path("/tmp/baton-pwned").exists()
    runs = _runs(store.engine, "lgcs-3.1.2")
    assert runs[("checkpoints.sqlite", "tool-loop")]["input_tokens"] == 2734  # from the checkpoints
    assert runs[("checkpoints.sqlite", "waiting")]["status"] == "waiting"  # its writes still say so
    fork = queries.run_checkpoints(
        store.engine, runs[("checkpoints.sqlite", "fork")]["id"], with_documents=True
    )
    assert len(fork) == 8 and all("cannot decode" in " ".join(cp["document"]["notes"]) for cp in fork)
    assert all(cp["created_at"] for cp in fork)  # the time from the UUIDv6 id


def test_an_unchanged_database_costs_a_stat(samples: Path, store: Store) -> None:
    folder = samples / "lgcs-3.1.2"
    ingest_paths([folder], store)
    again = ingest_paths([folder], store)
    assert again.files_loaded == 0 and again.files_unchanged == len(list(folder.glob("*.sqlite")))

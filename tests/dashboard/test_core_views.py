"""The core modules behind the dashboard's views: run search (in the database), the lineage
graph model, the checkpoint diff and the nested timeline, on the sample runs and on
documents shaped like the frameworks' own."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import ids, queries
from core.diff import diff_documents, summarize
from core.lineage import build, dot_escape, newest_not_failed, to_dot
from core.run_search import RunFilter, facets, search_runs
from core.store import Store
from core.tables import Event, Run
from core.timeline import nest, run_timeline
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS


# -- diff ------------------------------------------------------------------------------------------
def test_steps_moving_from_remaining_to_completed_are_reported_once_as_moved() -> None:
    old = {"completed_steps": ["fetch"], "remaining_steps": ["parse", "store"], "status": "partial"}
    new = {"completed_steps": ["fetch", "parse"], "remaining_steps": ["store"], "status": "partial"}
    changes = diff_documents(old, new)
    assert [(c.kind, c.from_path, c.path, c.new) for c in changes] == [
        ("moved", "remaining_steps[0]", "completed_steps[1]", "parse")
    ]


def test_new_messages_in_memory_are_added_at_their_index_not_changes_to_every_later_one() -> None:
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    grown = messages + [{"role": "assistant", "content": "a"}, {"role": "user", "content": "Observation: x"}]
    changes = diff_documents(
        {"memory": {"messages": messages}, "step": 1}, {"memory": {"messages": grown}, "step": 2}
    )
    assert [(c.kind, c.path) for c in changes] == [
        ("added", "memory.messages[2]"),
        ("added", "memory.messages[3]"),
        ("changed", "step"),
    ]
    assert changes[2].old == 1 and changes[2].new == 2


def test_fields_added_removed_changed_with_paths_and_key_order_ignored() -> None:
    old = {"a": {"x": 1, "y": [1, 2]}, "gone": True, "same": {"p": 1, "q": 2}}
    new = {"a": {"x": 2, "y": [1, 2]}, "new key": None, "same": {"q": 2, "p": 1}}
    changes = diff_documents(old, new)
    assert {(c.kind, c.path) for c in changes} == {
        ("changed", "a.x"),
        ("removed", "gone"),
        ("added", '"new key"'),
    }
    assert summarize(changes) == {"added": 1, "removed": 1, "changed": 1, "moved": 0}


def test_same_length_replacement_in_a_list_is_compared_field_by_field() -> None:
    old = {"steps": [{"name": "a", "status": "running"}, {"name": "b", "status": "pending"}]}
    new = {"steps": [{"name": "a", "status": "completed"}, {"name": "b", "status": "pending"}]}
    assert [(c.kind, c.path, c.old, c.new) for c in diff_documents(old, new)] == [
        ("changed", "steps[0].status", "running", "completed")
    ]


def test_diff_of_real_acf_chain_documents(sqlite_url: str) -> None:
    from core.db import make_engine

    engine = make_engine(sqlite_url)
    ingest_paths([SAMPLE_RUNS / "acf"], Store(engine))
    moved = 0
    for run in queries.list_runs(engine):
        cps = {cp["id"]: cp for cp in queries.run_checkpoints(engine, run["id"], with_documents=True)}
        for cp in cps.values():
            parent = cps.get(cp["parent_id"] or "")
            if parent:
                changes = diff_documents(parent["document"], cp["document"])
                assert any(c.path == "checkpoint_id" and c.kind == "changed" for c in changes)
                moved += sum(1 for c in changes if c.kind == "moved")
    engine.dispose()
    assert moved > 0


# -- lineage ---------------------------------------------------------------------------------------
def cp(cid: str, parent: str | None, agent: str = "a", status: str = "running", minute: int = 0) -> dict:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    return {
        "id": cid,
        "native_id": cid,
        "parent_id": parent,
        "agent_id": agent,
        "status": status,
        "created_at": at.isoformat(),
        "step": None,
    }


def test_forks_restarts_and_handoffs_are_found() -> None:
    checkpoints = [
        cp("r1", None, minute=0),
        cp("b1", "r1", minute=1),
        cp("b2", "r1", agent="b", minute=2),
        cp("x", "b1", status="failed", minute=3),
        cp("r2", None, minute=4),
        cp("y", "r2", status="completed", minute=5),
    ]
    model = build(checkpoints, selected="b1")
    assert model.roots == ["r1", "r2"] and model.restarts == ["r2"] and model.forks == ["r1"]
    assert model.handoffs == [("r1", "b2", "a", "b")]
    kinds = sorted(e.kind for e in model.edges)
    assert kinds == ["chain", "chain", "chain", "handoff", "restart"]
    restart = next(e for e in model.edges if e.kind == "restart")
    assert restart.source == model.node_of["x"] and restart.target == model.node_of["r2"]
    dot = to_dot(model, "b1")
    assert len([line for line in dot.splitlines() if "penwidth=3" in line]) == 1
    assert newest_not_failed(checkpoints)["id"] == "y"


def test_long_linear_stretches_collapse_but_keep_the_selected_failed_and_handoffs_visible() -> None:
    checkpoints = [cp("c0", None)]
    for n in range(1, 1000):
        agent = "a" if n < 500 else "b"
        status = "failed" if n == 700 else "running"
        checkpoints.append(cp(f"c{n}", f"c{n - 1}", agent=agent, status=status, minute=n))
    model = build(checkpoints, selected="c300")
    assert len(model.nodes) < 20
    visible = {n.checkpoint_ids[0] for n in model.nodes if not n.collapsed}
    assert {"c0", "c300", "c499", "c500", "c700", "c999"} <= visible
    assert sum(len(n.checkpoint_ids) for n in model.nodes) == 1000
    assert all(len(n.checkpoint_ids) >= 4 for n in model.nodes if n.collapsed)
    assert model.handoffs == [("c499", "c500", "a", "b")]
    expanded = build(checkpoints, selected="c300", collapse_min=10**9)
    assert len(expanded.nodes) == 1000


def test_parent_cycles_and_missing_parents_never_hang_or_drop_checkpoints() -> None:
    checkpoints = [cp("x", "y"), cp("y", "x", minute=1), cp("orphan", "not-loaded", minute=2)]
    model = build(checkpoints)
    assert sorted(model.node_of) == ["orphan", "x", "y"]
    assert set(model.missing_parents) == {"orphan", "x"}


def test_dot_labels_are_escaped_so_file_text_cannot_break_out() -> None:
    hostile = 'e"];a->b[x="pwn\\'  # short enough to appear whole in the labels
    model = build([cp("c1", None, agent=hostile), cp("c2", "c1", agent="ok", minute=1)])
    dot = to_dot(model)
    quoted = re.findall(r'"(?:[^"\\]|\\.)*"', dot)
    assert any('e\\"];a->b[x=\\"pwn\\\\' in q for q in quoted)
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', dot)
    assert "pwn" not in stripped and stripped.count("->") == len(model.edges)
    assert dot_escape("a\\lb\nc\x00") == "a\\\\lb\\nc "


# -- run search ------------------------------------------------------------------------------------
def test_search_filters_sorts_pages_and_counts_in_the_database(engine) -> None:
    ingest_paths([SAMPLE_RUNS], Store(engine))
    runs = queries.list_runs(engine)
    failed = [r for r in runs if r["status"] == "failed"]
    page = search_runs(engine, RunFilter(statuses=("failed",)), page_size=5)
    assert page.total == len(failed) and len(page.rows) == min(5, len(failed))
    assert page.pages == -(-len(failed) // 5)
    last = search_runs(engine, RunFilter(statuses=("failed",)), page=999, page_size=5)
    assert last.page == page.pages - 1 and last.rows
    seen = {
        r["id"]
        for p in range(page.pages)
        for r in search_runs(engine, RunFilter(statuses=("failed",)), page=p, page_size=5).rows
    }
    assert seen == {r["id"] for r in failed}
    started = [
        r["started_at"] for r in search_runs(engine, sort="started_at", descending=False, page_size=500).rows
    ]
    known = [s for s in started if s]
    assert known == sorted(known) and started[: len(known)] == known  # unknown starts last
    frameworks = facets(engine)["frameworks"]
    for framework in frameworks:
        hit = search_runs(engine, RunFilter(frameworks=(framework,)), page_size=500)
        assert hit.total == sum(1 for r in runs if r["framework"] == framework)


def test_search_by_agent_text_time_and_cost(engine) -> None:
    ingest_paths([SAMPLE_RUNS], Store(engine))
    runs = queries.list_runs(engine)
    with_agent = next(r for r in runs if r["agents"])
    agent = with_agent["agents"][0]
    hit = search_runs(engine, RunFilter(agent=agent.upper()), page_size=500)
    assert with_agent["id"] in {r["id"] for r in hit.rows}
    assert all(any(agent.lower() in a.lower() for a in r["agents"]) for r in hit.rows)
    reason_run = next(r for r in runs if r["failure_reason"])
    word = max(re.findall(r"[A-Za-z]{5,}", reason_run["failure_reason"]), key=len)
    hit = search_runs(engine, RunFilter(text=word.lower()), page_size=500)
    assert reason_run["id"] in {r["id"] for r in hit.rows}
    # "%" and "_" are literal, never wildcards that match everything
    assert search_runs(engine, RunFilter(text="%")).total < len(runs)
    assert search_runs(engine, RunFilter(text="_%_")).total < len(runs)
    dated = [r for r in runs if r["started_at"]]
    pivot = sorted(r["started_at"] for r in dated)[len(dated) // 2]
    after = search_runs(engine, RunFilter(started_from=datetime.fromisoformat(pivot)), page_size=500)
    assert after.total == sum(1 for r in dated if r["started_at"] >= pivot)


def test_cost_range_never_matches_runs_without_a_known_cost(engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.insert(),
            [
                {
                    "id": "r-free",
                    "framework": "acf",
                    "native_id": "free",
                    "status": "completed",
                    "reported_cost_usd": 0.0,
                },
                {
                    "id": "r-unknown",
                    "framework": "acf",
                    "native_id": "unknown",
                    "status": "completed",
                    "reported_cost_usd": None,
                },
                {
                    "id": "r-dear",
                    "framework": "acf",
                    "native_id": "dear",
                    "status": "failed",
                    "reported_cost_usd": 2.5,
                },
            ],
        )
    assert {r["id"] for r in search_runs(engine, RunFilter(cost_min=0.0)).rows} == {"r-free", "r-dear"}
    assert {r["id"] for r in search_runs(engine, RunFilter(cost_max=1.0)).rows} == {"r-free"}
    assert search_runs(engine, RunFilter(cost_min=3.0)).total == 0


# -- timeline --------------------------------------------------------------------------------------
def test_events_nest_under_their_parent_in_time_order(engine) -> None:
    run_id = ids.run_id("harness", "t")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ("root", None, 0, "step"),
        ("call", "root", 1, "llm_call"),
        ("tool", "root", 2, "tool_call"),
        ("inner", "tool", 3, "error"),
        ("later", None, 4, "step"),
        ("stray", "nowhere", 5, "step"),
    ]
    with engine.begin() as connection:
        connection.execute(Run.__table__.insert(), [{"id": run_id, "framework": "harness", "native_id": "t"}])
        connection.execute(
            Event.__table__.insert(),
            [
                {
                    "id": f"e{n}",
                    "run_id": run_id,
                    "seq": n,
                    "native_id": native,
                    "parent_native_id": parent,
                    "kind": kind,
                    "name": native,
                    "at": base + timedelta(seconds=n),
                    "error": "boom" if kind == "error" else None,
                }
                for n, (native, parent, _, kind) in enumerate(rows)
            ],
        )
    result = run_timeline(engine, run_id)
    assert [(r["name"], r["depth"]) for r in result.rows] == [
        ("root", 0),
        ("call", 1),
        ("tool", 1),
        ("inner", 2),
        ("later", 0),
        ("stray", 0),
    ]
    assert result.total == 6 and result.errors == 1 and result.kinds["step"] == 3
    errors = run_timeline(engine, run_id, errors_only=True)
    assert [r["name"] for r in errors.rows] == ["inner"]
    assert [r["name"] for r in run_timeline(engine, run_id, offset=2, limit=2).rows] == ["tool", "inner"]


def test_nest_survives_a_parent_cycle() -> None:
    rows = [
        {"id": "a", "native_id": "a", "parent_native_id": "b", "at": None, "seq": 0},
        {"id": "b", "native_id": "b", "parent_native_id": "a", "at": None, "seq": 1},
    ]
    assert sorted(r["id"] for r in nest(rows)) == ["a", "b"]


def test_timeline_of_a_real_trace_marks_its_errors(engine, tmp_path: Path) -> None:
    ingest_paths([SAMPLE_RUNS], Store(engine))
    runs = [r for r in queries.list_runs(engine) if r["events"]]
    run = max(runs, key=lambda r: (queries.event_counts(engine, r["id"]).get("error", 0), r["id"]))
    result = run_timeline(engine, run["id"], limit=10_000)
    assert result.total == run["events"] == len(result.rows)
    assert result.errors >= queries.event_counts(engine, run["id"]).get("error", 0)
    json.dumps([r["name"] for r in result.rows])  # names are plain text

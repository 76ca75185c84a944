"""Every dashboard page through Streamlit's AppTest, on the bundled sample runs and on an empty
database: what a user would see (titles, metrics, tables, messages), not internals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import lineage, queries
from core.db import make_engine
from core.store import Store
from dashboard.ui import md_escape
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS

APP = str(REPO / "dashboard" / "streamlit_app.py")
PAGES = [
    "views/overview.py",
    "views/runs.py",
    "views/run.py",
    "views/costs.py",
    "views/failures.py",
    "views/ingest.py",
]


@pytest.fixture
def sample_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    engine = make_engine(db_url)
    ingest_paths([SAMPLE_RUNS], Store(engine))
    engine.dispose()
    monkeypatch.setenv("BATON_DB_URL", db_url)
    monkeypatch.setenv("BATON_WATCH", str(SAMPLE_RUNS))
    return db_url


@pytest.fixture
def empty_db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "nothing_here"
    folder.mkdir()
    monkeypatch.setenv("BATON_DB_URL", db_url)
    monkeypatch.setenv("BATON_WATCH", str(folder))
    return db_url


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescape(markdown: str) -> str:
    return markdown.replace("\\", "")


def texts(at: AppTest) -> str:
    """Everything a user reads on the page, as one string."""
    parts = [
        e.value
        for kind in (
            "title",
            "subheader",
            "markdown",
            "caption",
            "info",
            "warning",
            "error",
            "success",
            "code",
            "text",
        )
        for e in at.get(kind)
    ]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def names(shown: object, native_ids: object) -> bool:
    """Whether a table cell (an id, its tail kept when long) names one of ``native_ids``."""
    text = str(shown)
    return any(n == text or (text.startswith("…") and n.endswith(text[1:])) for n in native_ids)


def all_runs(url: str) -> list[dict]:
    engine = make_engine(url)
    try:
        return queries.list_runs(engine)
    finally:
        engine.dispose()


# -- empty database -------------------------------------------------------------------------------
@pytest.mark.parametrize("page", [p for p in PAGES if p != "views/run.py"])
def test_every_page_explains_how_to_load_runs_when_the_database_is_empty(empty_db: str, page: str) -> None:
    at = open_page(page)
    shown = texts(at)
    assert "BATON_WATCH" in shown and "baton ingest" in shown and "baton watch" in shown


def test_run_page_without_a_run_asks_for_one(empty_db: str) -> None:
    at = open_page("views/run.py")
    assert "Open a run from the **Runs** or **Failures** page" in texts(at)
    at.text_input(key="run_ref").input("no-such-run").run()
    assert "No single run matches" in texts(at)


def test_unknown_run_in_the_url_says_so(empty_db: str) -> None:
    at = open_page("views/run.py", run="deadbeef")
    assert "No run with id deadbeef in this database" in texts(at)


def test_a_run_recorded_by_several_files_lists_them_on_its_page(sample_db: str) -> None:
    """techrevati's duplicates sample: one session in a JSONL sink, an SQLite store, an audit
    log and a summary is one run, and its page says which files recorded it."""
    folder = SAMPLE_RUNS / "techrevati" / "v0.4.0"
    (run,) = [r for r in all_runs(sample_db) if len(r["attributes"].get("sources") or ()) == 4]
    at = open_page("views/run.py", run=run["id"])
    shown = texts(at)
    assert "Recorded by **4 files**, shown as one run" in shown
    for name in (
        "duplicates.jsonl",
        "duplicates.sqlite",
        "duplicates.audit.jsonl",
        "duplicates.summary.json",
    ):
        assert (folder / name).is_file()
        assert md_escape(str(folder / name)) in shown


# -- overview -------------------------------------------------------------------------------------
def test_overview_counts_runs_and_lists_recent_failures(sample_db: str) -> None:
    runs = all_runs(sample_db)
    failed = [r for r in runs if r["status"] == "failed"]
    at = open_page("views/overview.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Runs"] == f"{len(runs):,}"
    assert metrics["Failed runs"] == f"{len(failed):,}"
    assert int(metrics["Files failed"]) > 0  # sample_runs/broken
    recent = at.dataframe[0].value
    assert len(recent) == min(8, len(failed))
    assert all(names(cell, [r["name"] for r in failed]) for cell in recent["run"])
    assert set(recent["id"]) <= {r["id"][:8] for r in failed}
    assert "Ingest health" in texts(at)
    watched = at.dataframe[-1].value
    assert str(SAMPLE_RUNS) in set(watched["path"])


# -- runs -----------------------------------------------------------------------------------------
def test_runs_page_filters_to_failed_runs_in_the_database(sample_db: str) -> None:
    runs = all_runs(sample_db)
    failed = [r for r in runs if r["status"] == "failed"]
    at = open_page("views/runs.py")
    assert f"{len(runs):,} runs" in texts(at)
    assert len(at.dataframe[0].value) == min(50, len(runs))
    at.multiselect(key="runs_status").select("failed").run()
    table = at.dataframe[0].value
    assert f"{len(failed):,} runs" in texts(at)
    assert len(table) == len(failed) and set(table["status"]) == {"failed"}
    assert at.query_params["status"] in ("failed", ["failed"])  # the URL keeps the filter


def test_runs_text_search_matches_failure_reasons(sample_db: str) -> None:
    failed = [r for r in all_runs(sample_db) if r["status"] == "failed" and r["failure_reason"]]
    target = failed[0]
    word = max(target["failure_reason"].split(), key=len)
    at = open_page("views/runs.py")
    at.text_input(key="runs_q").input(word).run()
    table = at.dataframe[0].value
    assert any(names(cell, [target["name"]]) for cell in table["run"])
    at.text_input(key="runs_q").input("zz-no-run-says-this-zz").run()
    assert "No run matches these filters." in texts(at)


def test_runs_filters_come_from_the_url(sample_db: str) -> None:
    frameworks = {r["framework"] for r in all_runs(sample_db)}
    framework = sorted(frameworks)[0]
    expected = [r for r in all_runs(sample_db) if r["framework"] == framework]
    at = open_page("views/runs.py", framework=framework)
    assert at.multiselect(key="runs_framework").value == [framework]
    assert set(at.dataframe[0].value["framework"]) == {framework}
    assert f"{len(expected):,} runs" in texts(at)


def test_selecting_a_run_opens_the_run_page(sample_db: str) -> None:
    at = open_page("views/runs.py")
    first = at.dataframe[0].value.iloc[0]
    at.session_state["runs_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert first["run"].lstrip("…") in unescape(at.title[0].value)
    assert "Checkpoints" in {m.label for m in at.metric}


# -- one run --------------------------------------------------------------------------------------
def _run_with_most_checkpoints(url: str, status: str | None = None) -> dict:
    runs = [r for r in all_runs(url) if status is None or r["status"] == status]
    return max(runs, key=lambda r: (r["checkpoints"], r["id"]))


def test_run_deep_link_opens_the_checkpoint_and_highlights_it_in_the_graph(sample_db: str) -> None:
    run = _run_with_most_checkpoints(sample_db)
    engine = make_engine(sample_db)
    checkpoints = queries.run_checkpoints(engine, run["id"])
    engine.dispose()
    chosen = checkpoints[0]
    at = open_page("views/run.py", run=run["id"], checkpoint=chosen["id"])
    assert at.selectbox(key="checkpoint_select").value == chosen["id"]
    chart = json.loads(at.get("echarts_chart")[0].proto.spec)
    outlined = [n for n in chart["series"][0]["data"] if n["itemStyle"].get("borderWidth") == 4]
    hint = lineage.id_hint(chosen["native_id"])
    assert len(outlined) == 1 and outlined[0]["label"]["formatter"].startswith(hint)
    shown = texts(at)
    assert f"{len(checkpoints)} checkpoints" in shown
    fields = dict(zip(at.dataframe[1].value["field"], at.dataframe[1].value["value"], strict=True))
    assert fields["Baton id"] == chosen["id"] and fields["Status"] == chosen["status"]


def test_failed_run_header_shows_class_reason_and_last_good_checkpoint(sample_db: str) -> None:
    run = _run_with_most_checkpoints(sample_db, "failed")
    at = open_page("views/run.py", run=run["id"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == "failed"
    facts = dict(zip(at.dataframe[0].value[""], at.dataframe[0].value["value"], strict=True))
    assert facts["Framework"] == run["framework"] and facts["Baton id"] == run["id"]
    shown = texts(at)
    assert "Failure class:" in shown
    if run["failure_reason"]:
        assert any(run["failure_reason"][:100] in c.value for c in [*at.text, *at.code])


def _acf_step_move(url: str) -> tuple[str, str, str]:
    """An ACF checkpoint whose parent still had a step it has completed: (run, parent, child)."""
    engine = make_engine(url)
    try:
        for run in queries.list_runs(engine, framework="acf"):
            cps = {cp["id"]: cp for cp in queries.run_checkpoints(engine, run["id"])}
            for cp in cps.values():
                parent = cps.get(cp["parent_id"] or "")
                if parent and set(parent["remaining_steps"]) & set(cp["completed_steps"]):
                    return run["id"], parent["id"], cp["id"]
    finally:
        engine.dispose()
    raise AssertionError("the ACF samples should contain a step moving from remaining to completed")


def test_diff_tab_shows_steps_moved_from_remaining_to_completed(sample_db: str) -> None:
    run_id, parent, child = _acf_step_move(sample_db)
    at = open_page("views/run.py", run=run_id, checkpoint=child, tab="Diff")
    assert at.selectbox(key=f"diff_from_{child}").value == parent
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Moved"]) >= 1
    table = at.dataframe[-1].value
    moved = table[table["change"] == "→ moved"]
    assert any("remaining_steps[" in p and "→ completed_steps[" in p for p in moved["path"])


def test_diff_tab_shows_new_memory_messages_as_added(sample_db: str) -> None:
    engine = make_engine(sample_db)
    try:
        candidates = []
        for run in queries.list_runs(engine, framework="harness"):
            cps = queries.run_checkpoints(engine, run["id"], with_documents=True)
            by_id = {cp["id"]: cp for cp in cps}
            for cp in cps:
                parent = by_id.get(cp["parent_id"] or "")
                doc, old = cp["document"], (parent or {}).get("document")
                if (
                    isinstance(doc, dict)
                    and isinstance(old, dict)
                    and isinstance(doc.get("memory"), dict)
                    and isinstance(old.get("memory"), dict)
                    and len(doc["memory"].get("messages", [])) > len(old["memory"].get("messages", []))
                ):
                    candidates.append((run["id"], cp["id"], len(old["memory"]["messages"])))
    finally:
        engine.dispose()
    if not candidates:
        pytest.skip("no harness checkpoint chain with a growing transcript in sample_runs yet")
    run_id, child, before = candidates[0]
    at = open_page("views/run.py", run=run_id, checkpoint=child, tab="Diff")
    table = at.dataframe[-1].value
    added = table[table["change"] == "+ added"]
    assert f"memory.messages[{before}]" in set(added["path"])


def test_timeline_tab_lists_events_and_marks_errors(sample_db: str) -> None:
    runs = [r for r in all_runs(sample_db) if r["events"] and r["status"] == "failed"]
    run = max(runs, key=lambda r: (r["events"], r["id"]))
    at = open_page("views/run.py", run=run["id"], tab="Timeline")
    table = at.dataframe[-1].value
    assert len(table) == min(run["events"], 200)
    assert f"{run['events']:,} events" in texts(at)
    engine = make_engine(sample_db)
    errors = queries.event_counts(engine, run["id"]).get("error", 0)
    engine.dispose()
    if errors:
        assert table["event"].str.contains("⚠").sum() >= errors
    calls = table[(table["kind"] == "llm_call") & (table["tokens"] != "")]
    assert all(cost and cost != "$0.00" for cost in calls["cost"])  # priced, reported, or "unpriced"


def test_resume_tab_is_there_for_a_checkpoint(sample_db: str) -> None:
    run = _run_with_most_checkpoints(sample_db)
    at = open_page("views/run.py", run=run["id"], tab="Resume")
    assert texts(at)  # either the resume panel or its "not available" line, never an exception
    assert not at.exception and not at.error
    assert any("Resume checkpoint" in h.value for h in at.subheader)  # the panel itself is shown
    assert at.json  # with a preview of the resume document


def test_file_text_never_reaches_markdown_unescaped(db_url: str, tmp_path: Path, monkeypatch) -> None:
    hostile = "**bold** [click](http://evil.example) <script>alert(1)</script> :red[alarm] $x^2$"
    folder = tmp_path / "hostile"
    folder.mkdir()
    doc = {
        "ac_version": "0.1.0",
        "checkpoint_id": "6f1c2b9e-3f4d-4a5b-8c6d-7e8f9a0b1c2d",
        "task_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "agent_id": "agent [x](http://a)",
        "emitted_at": "2026-01-01T00:00:00+00:00",
        "status": "failed",
        "task_summary": hostile,
        "failure_reason": hostile,
        "completed_steps": [],
        "remaining_steps": ["<b>step</b>"],
    }
    (folder / "cp.json").write_text(json.dumps(doc))
    engine = make_engine(db_url)
    ingest_paths([folder], Store(engine))
    run_id = queries.list_runs(engine)[0]["id"]
    engine.dispose()
    monkeypatch.setenv("BATON_DB_URL", db_url)
    monkeypatch.setenv("BATON_WATCH", str(folder))
    for page, params in (
        ("views/run.py", {"run": run_id}),
        ("views/runs.py", {}),
        ("views/failures.py", {}),
        ("views/overview.py", {}),
    ):
        at = open_page(page, **params)
        for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
            for element in at.get(kind):
                assert "[click](" not in element.value and "<script>" not in element.value
                assert "**bold**" not in element.value
    at = open_page("views/run.py", run=run_id)
    assert any(c.value == hostile for c in at.text)  # shown verbatim, as text


def test_long_values_are_truncated_with_a_way_to_see_all(db_url: str, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    reason = "disk full " * 400
    doc = {
        "ac_version": "0.1.0",
        "checkpoint_id": "6f1c2b9e-3f4d-4a5b-8c6d-7e8f9a0b1c2e",
        "task_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e",
        "agent_id": "a",
        "status": "failed",
        "emitted_at": "2026-01-01T00:00:00+00:00",
        "task_summary": "t",
        "failure_reason": reason,
    }
    (folder / "cp.json").write_text(json.dumps(doc))
    engine = make_engine(db_url)
    ingest_paths([folder], Store(engine))
    run_id = queries.list_runs(engine)[0]["id"]
    engine.dispose()
    monkeypatch.setenv("BATON_DB_URL", db_url)
    monkeypatch.setenv("BATON_WATCH", str(folder))
    at = open_page("views/run.py", run=run_id)
    assert reason in [c.value for c in at.code]  # in full, with a copy button, inside a popover
    shown = [t.value for t in at.text]
    assert any(c.endswith(" …") and len(c) < 500 and reason.startswith(c[:-2]) for c in shown)
    popovers = [b.proto.popover.label for b in at.get("popover")]
    assert any(label.startswith("Show all of the failure reason") for label in popovers), popovers


# -- costs, failures, ingest ------------------------------------------------------------------------
def test_costs_page_never_shows_unpriced_usage_as_zero_dollars(sample_db: str) -> None:
    at = open_page("views/costs.py")
    metrics = {m.label: m.value for m in at.metric}
    assert {"Priced total", "Calls", "Unpriced calls", "Unpriced tokens"} <= metrics.keys()
    table = at.dataframe[0].value
    assert len(table) > 0
    for _, row in table.iterrows():
        if row["provenance"] == "unpriced":
            assert row["cost"] == "unpriced"
        assert row["cost"] != "$0.00" or row["provenance"] in ("reported", "computed", "reported+computed")
    at.segmented_control(key="by").set_value("framework").run()
    frameworks = set(at.dataframe[0].value["framework"])
    assert frameworks and frameworks <= {r["framework"] for r in all_runs(sample_db)}


def test_failures_page_groups_every_failed_run_and_opens_one(sample_db: str) -> None:
    failed_runs = [r for r in all_runs(sample_db) if r["status"] == "failed"]
    failed = {r["name"] for r in failed_runs}
    at = open_page("views/failures.py")
    assert {m.label: m.value for m in at.metric}["Failed runs"] == f"{len(failed_runs):,}"
    listed = [run for table in at.dataframe[:] for run in table.value.get("run", [])]
    assert len(listed) == len(failed_runs)
    assert all(names(cell, failed) for cell in listed)
    first_group = at.dataframe[0].value
    at.session_state["failures_group_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert first_group.iloc[0]["run"].lstrip("…") in unescape(at.title[0].value)


def test_ingest_page_lists_the_bad_lines_of_files_that_loaded(sample_db: str) -> None:
    at = open_page("views/ingest.py")
    assert not at.exception
    assert "Bad lines skipped (1)" in texts(at)
    bad = at.dataframe[3].value
    assert [(Path(p).name, line) for p, line in zip(bad["file"], bad["line"], strict=True)] == [
        ("bad_middle_line.jsonl", 2)
    ]
    assert "invalid JSON" in bad["why"][0]


def test_ingest_page_lists_failed_and_ignored_files_and_adds_a_folder(sample_db: str, tmp_path: Path) -> None:
    at = open_page("views/ingest.py")
    shown = texts(at)
    assert "Failed files" in shown and "Ignored files" in shown
    failed = at.dataframe[1].value
    names = {Path(p).name: why for p, why in zip(failed["file"], failed["why"], strict=True)}
    assert "truncated JSON" in names["truncated_checkpoint.json"]
    assert names["wrong_types.json"] == "field 'checkpoint_id' must be a non-empty string"
    ignored = at.dataframe[2].value
    assert any(Path(p).name == "notes.json" for p in ignored["file"])

    extra = tmp_path / "more"
    shutil.copytree(SAMPLE_RUNS / "acf" / "v0.1.0" / "streams", extra)
    before = len(all_runs(sample_db))
    at.text_input[0].input(str(extra))
    at.button[0].click().run()
    assert not at.exception
    assert "1 loaded" in texts(at)
    assert len(all_runs(sample_db)) >= before
    engine = make_engine(sample_db)
    added = [f for f in queries.source_files(engine) if Path(f["path"]).is_relative_to(extra)]
    engine.dispose()
    assert [(Path(f["path"]).name, f["outcome"]) for f in added] == [("ticket-indexing.jsonl", "loaded")]
    at.text_input[0].input(str(tmp_path / "missing"))
    at.button[0].click().run()
    assert "does not exist" in texts(at)

"""The Run page's Resume tab in AppTest: the three formats, what is exported and the last good
checkpoint, the warning for a checkpoint a resume cannot start from, the next agent picked
from the run's agents, redacted paths listed, and a written export's confirmation that
survives a rerun after a new file arrives, with the preview still the document written."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core import queries
from core.db import make_engine
from core.failures import failed_runs
from core.store import Store
from dashboard.resume_panel import OTHER
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

SCRIPT = """
import streamlit as st
from dashboard.resume_panel import render_resume_panel
render_resume_panel({run_id!r}, st.query_params.get("checkpoint", {checkpoint_id!r}))
"""
SECRET = "sk-proj-Q3xv7H2kLmN9pR4sT6uW8yZ0aB1cD3eF5gH7iJ9kL"


def by_label(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def app_for(url: str, framework: str) -> tuple[AppTest, dict[str, Any], str]:
    """The panel on the failed checkpoint of the framework's failed run that has a last good
    checkpoint before it."""
    engine = make_engine(url)
    infos = [i for i in failed_runs(engine) if i.framework == framework and i.last_good_checkpoint]
    info = min(infos, key=lambda i: i.run_id)
    last = queries.run_checkpoints(engine, info.run_id)[-1]
    assert last["id"] != info.last_good_checkpoint
    engine.dispose()
    app = AppTest.from_string(SCRIPT.format(run_id=info.run_id, checkpoint_id=last["id"]), default_timeout=60)
    return app, info.to_dict(), last["id"]


@pytest.fixture
def url(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BATON_DB_URL", sqlite_url)
    monkeypatch.setenv("BATON_OUTBOX", str(tmp_path / "outbox"))
    engine = make_engine(sqlite_url)
    ingest_paths([SAMPLE_RUNS / "acf", SAMPLE_RUNS / "loopengt"], Store(engine))
    engine.dispose()
    return sqlite_url


def test_three_formats_each_previewed(url: str) -> None:
    app, _, _ = app_for(url, "loopengt")
    app.run()
    assert not app.exception
    radio = by_label(app.radio, "Format")
    assert list(radio.options) == ["acf", "native (loopengt)", "prompt"]
    assert json.loads(app.json[0].value)["ac_version"] == "0.1.0"
    radio.set_value("native").run()
    native = json.loads(app.json[0].value)
    assert "ac_version" not in native and "loopengt" in app.code[-1].value  # the resume script
    radio.set_value("prompt").run()
    assert not app.json
    brief = next(c.value for c in app.code if c.language == "markdown")
    assert brief.startswith("# Handoff brief\n") and "## Start the next agent" in brief
    assert 'claude -p "$(cat ' in app.code[-1].value and "gemini -p" in app.code[-1].value
    assert by_label(app.button, "Write to outbox") and app.get("download_button")

    acf_app, _, _ = app_for(url, "acf")  # a framework without a native form says so
    acf_app.run()
    assert [o for o in by_label(acf_app.radio, "Format").options] == ["acf", "native", "prompt"]
    by_label(acf_app.radio, "Format").set_value("native").run()
    assert acf_app.error and "no native resume format" in acf_app.code[0].value


def test_states_what_is_exported_warns_and_switches_to_the_last_good(url: str) -> None:
    app, info, failed = app_for(url, "acf")
    app.run()
    statement = app.info[0].value
    good_native = info["last_good_checkpoint_native"]
    assert "Exporting checkpoint" in statement and "(failed" in statement
    assert "the last good one is" in statement and good_native[-20:].replace("-", "\\-") in statement
    assert any("not usable for a resume" in w.value for w in app.warning)
    by_label(app.button, "Switch to the last good checkpoint").click().run()
    assert app.query_params["checkpoint"] == info["last_good_checkpoint"]
    assert "this is the last good checkpoint before the failure" in app.info[0].value
    assert not any("not usable" in w.value for w in app.warning)
    assert failed != info["last_good_checkpoint"]


def test_next_agent_from_the_run_or_typed(url: str) -> None:
    app, _, _ = app_for(url, "loopengt")
    app.run()
    picker = by_label(app.selectbox, "Next agent")
    agents = [o for o in picker.options if o != OTHER]
    assert agents and picker.options[-1] == OTHER
    by_label(app.radio, "Format").set_value("prompt").run()
    by_label(app.selectbox, "Next agent").set_value(OTHER).run()
    by_label(app.text_input, "Agent name").set_value("codex-cli").run()
    brief = next(c.value for c in app.code if c.language == "markdown")
    assert "- Handed to: `codex-cli`" in brief


def test_redacted_paths_are_listed(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "secret"
    folder.mkdir()
    doc = {
        "ac_version": "0.1.0",
        "checkpoint_id": str(uuid.uuid4()),
        "task_id": str(uuid.uuid4()),
        "agent_id": "writer",
        "emitted_at": "2026-11-22T10:52:44+00:00",
        "status": "failed",
        "task_summary": "Ship it",
        "failure_reason": "429 rate limit",
        "context_snapshot": {"env": {"OPENAI_API_KEY": SECRET}, "log": f"called with {SECRET}"},
    }
    (folder / "cp.json").write_text(json.dumps(doc))
    engine = make_engine(url)
    ingest_paths([folder], Store(engine))
    run = next(r for r in queries.list_runs(engine, framework="acf") if r["task"] == "Ship it")
    checkpoint = queries.run_checkpoints(engine, run["id"])[0]["id"]
    engine.dispose()
    app = AppTest.from_string(SCRIPT.format(run_id=run["id"], checkpoint_id=checkpoint), default_timeout=60)
    app.run()
    assert any("Redacted 2 value(s)" in c.value for c in app.caption)
    table = app.dataframe[0].value
    assert table["path"].tolist() == ["$.context_snapshot.env.OPENAI_API_KEY", "$.context_snapshot.log"]
    assert SECRET not in app.json[0].value


@pytest.mark.parametrize("fmt", ["acf", "prompt"])
def test_the_confirmation_survives_a_new_file_and_the_preview_is_what_was_written(
    url: str, tmp_path: Path, fmt: str
) -> None:
    app, _, _ = app_for(url, "acf")
    app.run()
    by_label(app.radio, "Format").set_value(fmt).run()
    by_label(app.button, "Write to outbox").click().run()
    assert not app.exception
    (written,) = (tmp_path / "outbox" / fmt).iterdir()
    # A file arrives and the page reruns (as the live refresh does).
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    (arrived / "new.json").write_text(
        json.dumps(
            {
                "ac_version": "0.1.0",
                "checkpoint_id": str(uuid.uuid4()),
                "task_id": str(uuid.uuid4()),
                "agent_id": "late",
                "emitted_at": "2026-11-23T10:00:00+00:00",
                "status": "partial",
                "task_summary": "arrived later",
            }
        )
    )
    engine = make_engine(url)
    before = queries.data_version(engine)
    ingest_paths([arrived], Store(engine))
    assert queries.data_version(engine) != before
    engine.dispose()
    app.run()
    assert not app.exception
    (success,) = app.success
    assert "Written at" in success.value and "(the document shown below)" in success.value
    assert any(c.value == str(written) for c in app.code)
    if fmt == "acf":
        shown = json.loads(app.json[0].value)
        assert shown == json.loads(written.read_text())
        document_id = shown["checkpoint_id"]
    else:
        shown = next(c.value for c in app.code if c.language == "markdown")
        assert shown == written.read_text().rstrip("\n")  # st.code drops the final newline
        document_id = shown.split("- Brief id: `")[1].split("`")[0]
    exports = app.dataframe[-1].value
    assert exports["document id"].tolist() == [document_id]
    when = exports["when (UTC)"].tolist()[0]
    assert len(when) == 19 and "T" not in when
    # A new export gets new ids; the confirmation stays and says the preview is another one.
    by_label(app.button, "New export (new ids)").click().run()
    assert "(the preview below is a new, unwritten export)" in app.success[0].value

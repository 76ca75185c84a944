"""The resume panel in Streamlit's AppTest: preview, choices, write to outbox, export list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core import queries
from core.db import make_engine
from core.store import Store
from dashboard.resume_panel import OTHER
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

SCRIPT = """
from dashboard.resume_panel import render_resume_panel
render_resume_panel({run_id!r}, {checkpoint_id!r})
"""


@pytest.fixture
def panel(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, str, Path]:
    monkeypatch.setenv("BATON_DB_URL", sqlite_url)
    monkeypatch.setenv("BATON_OUTBOX", str(tmp_path / "outbox"))
    engine = make_engine(sqlite_url)
    ingest_paths([SAMPLE_RUNS / "acf"], Store(engine))
    run = queries.list_runs(engine, status="failed", framework="acf")[0]
    checkpoint = queries.run_checkpoints(engine, run["id"])[-1]["id"]
    engine.dispose()
    app = AppTest.from_string(SCRIPT.format(run_id=run["id"], checkpoint_id=checkpoint), default_timeout=60)
    return app, sqlite_url, tmp_path / "outbox"


def test_preview_choices_and_write_to_outbox(panel: tuple[AppTest, str, Path]) -> None:
    app, url, outbox = panel
    app.run()
    assert not app.exception
    preview = json.loads(app.json[0].value)
    assert preview["status"] == "partial" and preview["ac_version"] == "0.1.0"
    assert "agent_checkpoint.parse" in app.code[-1].value
    assert any("No exports yet" in t.value for t in app.text)

    _by_label(app.selectbox, "Next agent").set_value(OTHER).run()
    _by_label(app.text_input, "Agent name").set_value("agent-b").run()
    _by_label(app.selectbox, "Retry strategy").set_value("escalate").run()
    preview = json.loads(app.json[0].value)
    assert (preview["agent_id"], preview["retry_strategy"]) == ("agent-b", "escalate")

    _by_label(app.button, "Write to outbox").click().run()
    assert not app.exception and app.success
    written = list((outbox / "acf").glob("*.json"))
    assert len(written) == 1
    assert json.loads(written[0].read_text())["checkpoint_id"] == preview["checkpoint_id"]
    assert len(app.dataframe) == 1 and str(written[0]) in app.dataframe[0].value["destination"].tolist()
    engine = make_engine(url)
    assert queries.list_exports(engine)[0]["options"]["agent_id"] == "agent-b"


def test_turning_redaction_off_warns(panel: tuple[AppTest, str, Path]) -> None:
    app, _, _ = panel
    app.run()
    _by_label(app.toggle, "Redact secrets").set_value(False).run()
    assert any("Redaction is off" in w.value for w in app.warning)
    assert json.loads(app.json[0].value)["context_snapshot"]["baton_export"]["redaction"]["enabled"] is False


def _by_label(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def test_an_unmappable_checkpoint_shows_why_as_plain_text(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_DB_URL", sqlite_url)
    folder = tmp_path / "in"
    folder.mkdir()
    doc = {
        "ac_version": "0.1.0",
        "checkpoint_id": "33333333-3333-4333-8333-333333333333",
        "task_id": "44444444-4444-4444-8444-444444444444",
        "agent_id": "a",
        "status": "partial",
        "emitted_at": "2026-11-22T10:00:00+00:00",
        "task_summary": " ",
    }
    (folder / "cp.json").write_text(json.dumps(doc))
    engine = make_engine(sqlite_url)
    ingest_paths([folder], Store(engine))
    run = queries.list_runs(engine)[0]
    checkpoint = queries.run_checkpoints(engine, run["id"])[0]["id"]
    engine.dispose()
    app = AppTest.from_string(SCRIPT.format(run_id=run["id"], checkpoint_id=checkpoint), default_timeout=60)
    app.run()
    assert not app.exception
    assert app.error and "Cannot export" in app.error[0].value
    assert "task summary" in app.code[0].value and not app.json

"""The outbox: names from sanitized ids, nothing from an input file steers a write outside
the folder, and every export is logged and listable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.resume.export import build_export, export_checkpoint, write_export
from core.resume.options import ExportOptions
from core.resume.outbox import UnsafePath, default_outbox, safe_name, safe_path, write_bytes
from core.resume.source import ResumeSource
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

HOSTILE = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "a/../../b",
    "nul\x00byte",
    "x" * 5000,
    "~/.ssh/authorized_keys",
    "C:\\Windows\\system32",
    "-rf",
    ".hidden",
    "ok:key\n../..",
    "",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_safe_name_is_one_plain_part(hostile: str) -> None:
    name = safe_name(hostile)
    assert name and len(name) <= 120
    assert "/" not in name and "\\" not in name and "\x00" not in name and "\n" not in name
    assert name not in (".", "..") and not name.startswith((".", "-"))


def test_safe_name_keeps_ids_that_are_already_safe_and_keeps_distinct_ids_distinct() -> None:
    assert (
        safe_name("3f7a1b2c-0000-4000-8000-000000000000:researcher")
        == "3f7a1b2c-0000-4000-8000-000000000000:researcher"
    )
    assert safe_name("54ca93e8931a") == "54ca93e8931a"
    assert safe_name("a/b") != safe_name("a?b")
    assert safe_name("y" * 300) != safe_name("y" * 301)


@pytest.mark.parametrize("part", ["..", "../x", "/etc/passwd", "a\x00b", ""])
def test_safe_path_refuses_parts_that_are_not_plain_names(tmp_path: Path, part: str) -> None:
    with pytest.raises(UnsafePath):
        safe_path(tmp_path, part)


def test_a_symlink_planted_in_the_outbox_cannot_redirect_a_write(tmp_path: Path) -> None:
    outbox, outside = tmp_path / "outbox", tmp_path / "outside"
    outbox.mkdir()
    outside.mkdir()
    os.symlink(outside / "target.json", outbox / "planted.json")
    os.symlink(outside, outbox / "dir")
    with pytest.raises(UnsafePath):
        write_bytes(outbox, ("planted.json",), b"{}")
    with pytest.raises(UnsafePath):
        write_bytes(outbox, ("dir", "x.json"), b"{}")
    assert list(outside.iterdir()) == []


def _hostile_harness_source(run_id: str, agent_id: str) -> ResumeSource:
    doc = {
        "kind": "agent",
        "version": 1,
        "run_id": run_id,
        "agent_id": agent_id,
        "task": "Do the thing",
        "step": 0,
        "phase": "think",
        "memory": {"messages": []},
        "actions": [],
    }
    return ResumeSource(
        run={
            "id": "r1",
            "framework": "harness",
            "native_id": run_id,
            "task": "Do the thing",
            "agents": [agent_id],
            "failure_signals": {},
            "status": "unknown",
        },
        checkpoint={
            "id": "c1",
            "native_id": run_id,
            "document": doc,
            "source_path": None,
            "summary": "Do the thing",
        },
    )


def _hostile_loopengt_source(run_id: str) -> ResumeSource:
    doc = {
        "checkpoint_id": "abc",
        "run_id": run_id,
        "current_step_index": 0,
        "step_states": [{"step_name": "a", "status": "pending", "attempts": 0}],
        "agent_states": [],
        "context": {},
        "history": [],
    }
    return ResumeSource(
        run={
            "id": "r2",
            "framework": "loopengt",
            "native_id": run_id,
            "task": "loop",
            "agents": [],
            "failure_signals": {},
            "status": "paused",
        },
        checkpoint={"id": "c2", "native_id": "abc", "document": doc, "summary": "loop"},
    )


@pytest.mark.parametrize("hostile", HOSTILE[:9])
def test_hostile_ids_in_input_documents_stay_inside_the_outbox(tmp_path: Path, hostile: str) -> None:
    outbox = tmp_path / "outbox"
    for source, fmt in (
        (_hostile_harness_source(hostile, hostile), "harness"),
        (_hostile_loopengt_source(hostile), "loopengt"),
        (_hostile_harness_source(hostile, "a"), "acf"),
    ):
        result = build_export(source, ExportOptions(format=fmt))
        path = write_export(result, outbox)
        assert path.is_file() and path.is_relative_to(outbox.resolve())
        assert json.loads(path.read_text())  # a complete document
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.is_relative_to(outbox) for p in written)


def test_default_outbox_follows_baton_outbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BATON_OUTBOX", str(tmp_path / "box"))
    assert default_outbox() == tmp_path / "box"
    monkeypatch.delenv("BATON_OUTBOX")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_outbox() == tmp_path / ".baton" / "outbox"


def test_every_export_is_logged_and_listable(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_OUTBOX", str(tmp_path / "outbox"))
    ingest_paths([SAMPLE_RUNS / "acf"], Store(engine))
    run = queries.list_runs(engine, status="failed", framework="acf")[0]
    checkpoint = queries.run_checkpoints(engine, run["id"])[-1]["id"]
    first = export_checkpoint(engine, checkpoint[:10], ExportOptions())
    second = export_checkpoint(
        engine, checkpoint, ExportOptions(redact=False, agent_id="other"), destination="download"
    )
    assert first.path and first.path.parent == (tmp_path / "outbox" / "acf").resolve()
    assert second.path is None
    log = queries.list_exports(engine, checkpoint_id=checkpoint)
    assert [e["destination"] for e in log] == ["download", str(first.path)]
    assert log[0]["options"]["redact"] is False and log[0]["options"]["agent_id"] == "other"
    assert log[1]["document_id"] == first.document_id and log[1]["format"] == "acf"
    assert log[1]["bytes"] == first.path.stat().st_size and log[1]["created_at"]
    assert queries.list_exports(engine, run_id=run["id"]) == log
    assert queries.list_exports(engine, checkpoint_id="nope") == []


def test_a_database_from_before_the_export_log_gets_it_by_migration(sqlite_url: str) -> None:
    from sqlalchemy import inspect, text

    from core.db import make_engine
    from core.migrations import MIGRATIONS

    engine = make_engine(sqlite_url)
    with engine.begin() as connection:  # as a version-1 database looked
        connection.execute(text("DROP TABLE resume_export"))
        connection.execute(text("DELETE FROM baton_schema WHERE version > 1"))
    engine.dispose()
    engine = make_engine(sqlite_url)
    assert "resume_export" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT MAX(version) FROM baton_schema")).scalar() == len(MIGRATIONS)
    assert queries.list_exports(engine) == []
    engine.dispose()

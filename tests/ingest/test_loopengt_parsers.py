"""The loopengt 0.1.0 parsers over the committed samples (made by the real package), then
the whole sample tree through the loader into a real database.

Run ids are new on every generation of the samples, so runs are found by ``loop_name``
(see sample_runs/loopengt/README.md for the scenarios asserted here).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core import queries
from core.records import ParsedFile
from core.store import Store
from ingest.content import decode
from ingest.loader import ingest_paths
from ingest.parsers.loopengt import checkpoint as loopengt_checkpoint
from ingest.parsers.loopengt import run as loopengt_run
from ingest.parsers.loopengt import trace as loopengt_trace
from ingest.parsers.loopengt import tracedb as loopengt_tracedb
from ingest.registry import detect_format
from tests.conftest import SAMPLE_RUNS
from tests.helpers import copy_tree, row_counts

SAMPLES = SAMPLE_RUNS / "loopengt" / "v0.1.0"
DOT = SAMPLES / ".loopengt"
FILES = sorted(p for p in DOT.rglob("*") if p.is_file())


def _expected_format(path: Path) -> str:
    if path.name == "traces.db":
        return "loopengt.tracedb"
    if path.name.endswith(".trace.jsonl"):
        return "loopengt.trace"
    if path.parent.name == "checkpoints":
        return "loopengt.checkpoint"
    return "loopengt.run"


def _parse(path: Path) -> ParsedFile:
    content = decode(path, path.read_bytes())
    spec = detect_format(content)
    assert spec is not None, f"{path} not recognised"
    return spec.parse(content)


def _run_files() -> dict[str, list[dict[str, Any]]]:
    """loop_name -> run documents."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((DOT / "runs").glob("*.json")):
        doc = json.loads(path.read_text())
        found.setdefault(doc["loop_name"], []).append(doc)
    return found


RUN_FILES = _run_files()
STATUSES = {  # loop_name -> statuses of its runs (long-migration: paused, then resumed under a new id)
    "research-brief": ["completed"],
    "nightly-etl": ["failed"],
    "flaky-etl": ["completed"],
    "long-migration": ["completed", "paused"],
    "release-approval": ["paused"],
    "weekly-digest": ["completed"],
    "doc-translation": ["completed"],
    "competitor-scan": ["failed"],
    "cli-quickstart": ["completed"],
    "cli-missing-agent": ["failed"],
}
CHECKPOINT_STEPS = {  # loop_name/status -> current_step_index of its checkpoints in created_at order
    "research-brief": [0, 1, 2],
    "nightly-etl": [0, 1, 2],
    "flaky-etl": [0, 1, 1, 2],
    "long-migration/paused": [0, 1],
    "long-migration/completed": [1, 2, 3],
    "release-approval": [0, 1],
    "weekly-digest": [0, 1, 2],
    "doc-translation": [0, 1, 2],
    "competitor-scan": [0, 0, 0],
    "cli-quickstart": [],
    "cli-missing-agent": [],
}
EVENT_KINDS = {  # from the README's events table
    "research-brief": {"lifecycle": 2, "step": 6, "llm_call": 6, "tool_call": 2, "checkpoint": 3},
    "nightly-etl": {
        "lifecycle": 1,
        "step": 7,
        "llm_call": 7,
        "tool_call": 3,
        "error": 10,
        "recovery": 2,
        "checkpoint": 3,
    },
    "flaky-etl": {"lifecycle": 3, "step": 8, "llm_call": 8, "error": 5, "recovery": 1, "checkpoint": 5},
    "long-migration/paused": {"lifecycle": 2, "step": 4, "llm_call": 4, "checkpoint": 2},
    "long-migration/completed": {"lifecycle": 2, "step": 6, "llm_call": 6, "checkpoint": 4},
    "release-approval": {"lifecycle": 2, "step": 4, "llm_call": 4, "checkpoint": 2},
    "weekly-digest": {
        "lifecycle": 2,
        "step": 6,
        "llm_call": 6,
        "tool_call": 2,
        "error": 6,
        "recovery": 1,
        "checkpoint": 3,
    },
    "doc-translation": {"lifecycle": 2, "step": 6, "llm_call": 6, "handoff": 2, "checkpoint": 3},
    "competitor-scan": {"lifecycle": 1, "step": 6, "llm_call": 6, "error": 5, "recovery": 1, "checkpoint": 3},
    "cli-quickstart": {},
    "cli-missing-agent": {},
}


def _key(run: dict[str, Any]) -> str:
    name = run["attributes"]["loop_name"]
    return f"{name}/{run['status']}" if name == "long-migration" else name


def _runs_by_key(engine: Engine) -> dict[str, dict[str, Any]]:
    runs = queries.list_runs(engine, framework="loopengt")
    by_key = {_key(run): run for run in runs}
    assert len(by_key) == len(runs) == 11
    return by_key


# -- each file on its own -----------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_file_is_recognised_by_content_as_its_format(path: Path) -> None:
    content = decode(path, path.read_bytes())
    spec = detect_format(content)
    assert spec is not None and spec.name == _expected_format(path)
    parsed = spec.parse(content)
    assert parsed.warnings == []
    assert parsed.runs or parsed.checkpoints or parsed.events


def test_recognition_does_not_depend_on_the_file_name(tmp_path: Path) -> None:
    trace = next(DOT.glob("runs/*.trace.jsonl"))
    checkpoint = next(DOT.glob("runs/*/checkpoints/*.json"))
    for source, spec in ((trace, loopengt_trace), (checkpoint, loopengt_checkpoint)):
        renamed = tmp_path / f"renamed{source.suffix}"
        shutil.copy(source, renamed)
        content = decode(renamed, renamed.read_bytes())
        assert detect_format(content) is spec.FORMAT


@pytest.mark.parametrize("loop_name", sorted(RUN_FILES))
def test_run_file_status_and_failure_text(loop_name: str) -> None:
    docs = RUN_FILES[loop_name]
    parsed = [_parse(DOT / "runs" / f"{doc['run_id']}.json").runs[0] for doc in docs]
    assert sorted(run.status for run in parsed) == STATUSES[loop_name]
    for doc, run in zip(docs, parsed, strict=True):
        assert run.native_id == doc["run_id"] and run.task == loop_name
        assert run.failure_signals["status"] == doc["status"]
        assert run.failure_signals["error"] == doc["error"]
        if doc["status"] == "failed":
            assert run.failure_reason == doc["error"]
        else:
            assert run.failure_reason is None
        assert run.started_at is not None and run.started_at.tzinfo is not None
        assert (run.ended_at is None) == (doc["completed_at"] is None)


def test_failed_steps_keep_the_real_cause() -> None:
    (scan,) = RUN_FILES["competitor-scan"]
    run = _parse(DOT / "runs" / f"{scan['run_id']}.json").runs[0]
    assert run.failure_reason == "Unexpected error: unhandled errors in a TaskGroup (1 sub-exception)"
    (step,) = run.failure_signals["failed_steps"]
    assert step["step_name"] == "scan_beta" and step["attempts"] == 2
    assert "context_length_exceeded" in step["error"]

    (digest,) = RUN_FILES["weekly-digest"]
    run = _parse(DOT / "runs" / f"{digest['run_id']}.json").runs[0]
    assert run.status == "completed" and run.failure_reason is None
    assert run.attributes["partial"] is True
    assert run.attributes["step_states"]["fetch_metrics"]["status"] == "failed"
    assert "TimeoutError" in run.failure_signals["failed_steps"][0]["error"]


def test_run_file_tokens_are_summed_and_unknown_is_not_zero() -> None:
    (brief,) = RUN_FILES["research-brief"]
    run = _parse(DOT / "runs" / f"{brief['run_id']}.json").runs[0]
    assert (run.input_tokens, run.output_tokens) == (480, 156)
    assert run.agents == ["researcher", "writer"]
    assert run.attributes["models"] == ["gpt-4o-mini", "gpt-4o"]
    (cli,) = RUN_FILES["cli-quickstart"]
    run = _parse(DOT / "runs" / f"{cli['run_id']}.json").runs[0]
    assert (run.input_tokens, run.output_tokens) == (None, None)


def test_trace_events_keep_subtype_fields() -> None:
    (brief,) = RUN_FILES["research-brief"]
    parsed = _parse(DOT / "runs" / f"{brief['run_id']}.trace.jsonl")
    responses = [e for e in parsed.events if e.name == "agent.response"]
    assert sum(e.input_tokens for e in responses) == 480
    assert sum(e.output_tokens for e in responses) == 156
    assert {e.model for e in responses} == {"gpt-4o-mini", "gpt-4o"}
    invokes = [e for e in parsed.events if e.name == "agent.invoke"]
    assert invokes and all(e.input_tokens is None and e.output_tokens is None for e in invokes)
    starts = [e for e in parsed.events if e.name == "step.start"]
    assert all(e.data["attempt"] == 1 and e.step and e.agent_id for e in starts)
    tool = next(e for e in parsed.events if e.name == "tool.result")
    assert tool.tool == "web_search" and tool.data["output_data"]["hits"] == 3
    children = [e for e in parsed.events if e.parent_native_id]
    assert {e.parent_native_id for e in children} <= {e.native_id for e in parsed.events}

    (etl,) = RUN_FILES["nightly-etl"]
    parsed = _parse(DOT / "runs" / f"{etl['run_id']}.trace.jsonl")
    step_errors = [e for e in parsed.events if e.name == "step.error"]
    assert [e.data["attempt"] for e in step_errors] == [1, 2, 3]
    assert all("lacks INSERT on orders" in e.error and e.kind == "error" for e in step_errors)


def test_resumed_run_under_the_same_id_shows_both_attempts() -> None:
    (flaky,) = RUN_FILES["flaky-etl"]
    parsed = _parse(DOT / "runs" / f"{flaky['run_id']}.trace.jsonl")
    (run,) = parsed.runs
    first, second = run.attributes["attempts"]
    assert first["outcome"] == "failed" and "rate_limit_exceeded" in first["error"]
    assert second["outcome"] == "completed"
    assert second["resumed_from"]["run_id"] == flaky["run_id"]
    assert run.status == "completed"
    assert [e.name for e in parsed.events].count("loop.start") == 2
    # The run file is only the final state, but its history predates the second start.
    record = _parse(DOT / "runs" / f"{flaky['run_id']}.json").runs[0]
    assert record.attributes["history_before_start"] == 1
    assert record.attributes["step_states"]["transform"]["attempts"] == 3


def test_paused_and_resumed_under_a_new_id_names_its_origin() -> None:
    docs = {doc["status"]: doc for doc in RUN_FILES["long-migration"]}
    parsed = _parse(DOT / "runs" / f"{docs['completed']['run_id']}.trace.jsonl")
    assert parsed.runs[0].attributes["resumed_from"]["run_id"] == docs["paused"]["run_id"]
    paused = _parse(DOT / "runs" / f"{docs['paused']['run_id']}.trace.jsonl").runs[0]
    (attempt,) = paused.attributes["attempts"]
    assert attempt["outcome"] == "paused" and "change-approval window" in attempt["reason"]


def test_sqlite_trace_store_gives_events_of_both_runs() -> None:
    parsed = _parse(DOT / "traces.db")
    by_run = Counter(e.run_native_id for e in parsed.events)
    expected = {
        RUN_FILES[name][0]["run_id"]: n for name, n in (("doc-translation", 19), ("competitor-scan", 22))
    }
    assert dict(by_run) == expected
    handoffs = [e for e in parsed.events if e.kind == "handoff"]
    assert [(e.data["data"]["from_agent"], e.data["data"]["to_agent"]) for e in handoffs] == [
        ("translator", "localiser"),
        ("localiser", "reviewer"),
    ]
    assert {run.status for run in parsed.runs} == {"completed", "failed"}


def test_checkpoint_keeps_its_document_and_infers_status() -> None:
    (etl,) = RUN_FILES["nightly-etl"]
    folder = DOT / "runs" / etl["run_id"] / "checkpoints"
    records = sorted((_parse(p).checkpoints[0] for p in folder.glob("*.json")), key=lambda c: c.created_at)
    for record in records:
        assert record.document == json.loads((folder / f"{record.native_id}.json").read_text())
        assert record.chain_key == etl["run_id"] and record.parent_native_id is None
        assert "status" in record.inferred
    assert [r.status for r in records] == ["running", "running", "failed"]
    assert records[-1].completed_steps == ["extract", "transform"]
    assert records[-1].remaining_steps == ["load", "verify"]
    assert "lacks INSERT on orders" in records[-1].failure_reason


# -- the whole tree through the loader ------------------------------------------------------


def test_whole_sample_tree_into_a_real_database(store: Store) -> None:
    summary = ingest_paths([SAMPLE_RUNS / "loopengt"], store)
    assert (summary.files_failed, summary.files_ignored) == (0, 0)
    assert (summary.runs, summary.checkpoints, summary.events) == (11, 26, 191)
    runs = _runs_by_key(store.engine)
    assert Counter(run["status"] for run in runs.values()) == {"completed": 6, "failed": 3, "paused": 2}
    for key, run in runs.items():
        name = key.split("/")[0]
        assert run["framework"] == "loopengt" and run["task"] == name
        assert queries.event_counts(store.engine, run["id"]) == EVENT_KINDS[key], key
        checkpoints = queries.run_checkpoints(store.engine, run["id"])
        assert [cp["step"] for cp in checkpoints] == CHECKPOINT_STEPS[key], key
        # One chain in created_at order: each checkpoint's parent is the one before it.
        assert [cp["parent_id"] for cp in checkpoints] == [None, *[cp["id"] for cp in checkpoints]][
            : len(checkpoints)
        ]
    assert runs["nightly-etl"]["failure_reason"].startswith("Step 'load' failed after 3 attempts")
    assert runs["cli-missing-agent"]["failure_reason"] == "Agent not found: ghost"
    # Tokens: the run file first (it also holds the step copied from the paused run), else unknown.
    assert (
        runs["long-migration/completed"]["input_tokens"],
        runs["long-migration/completed"]["output_tokens"],
    ) == (745, 228)
    assert (runs["doc-translation"]["input_tokens"], runs["doc-translation"]["output_tokens"]) == (530, 166)
    assert runs["cli-quickstart"]["input_tokens"] is None


def test_resumed_run_in_the_database_shows_both_attempts(store: Store) -> None:
    ingest_paths([SAMPLE_RUNS / "loopengt"], store)
    run = queries.get_run(
        store.engine, queries.resolve_run_id(store.engine, RUN_FILES["flaky-etl"][0]["run_id"])
    )
    assert [a["outcome"] for a in run["attributes"]["attempts"]] == ["failed", "completed"]
    assert run["status"] == "completed" and run["failure_signals"]["error"] is None
    second_start = datetime.fromisoformat(run["attributes"]["attempts"][1]["started_at"])
    checkpoints = queries.run_checkpoints(store.engine, run["id"])
    before = [cp for cp in checkpoints if datetime.fromisoformat(cp["created_at"]) < second_start]
    assert len(before) == 2 and len(checkpoints) == 4  # two from each execution
    assert checkpoints[1]["status"] == "failed"  # saved when the first execution failed


def test_second_ingest_changes_nothing(store: Store) -> None:
    first = ingest_paths([SAMPLE_RUNS / "loopengt"], store)
    counts = row_counts(store.engine)
    runs = queries.list_runs(store.engine, framework="loopengt")
    second = ingest_paths([SAMPLE_RUNS / "loopengt"], store)
    assert second.files_unchanged == second.files_seen == first.files_seen == 45
    assert (second.files_loaded, second.files_failed) == (0, 0)
    assert row_counts(store.engine) == counts
    assert queries.list_runs(store.engine, framework="loopengt") == runs


# -- bad input ------------------------------------------------------------------------------


def _trace_of(tree: Path, loop_name: str) -> Path:
    return tree / ".loopengt" / "runs" / f"{RUN_FILES[loop_name][0]['run_id']}.trace.jsonl"


def test_truncated_trace_line_is_recorded_with_its_line(tmp_path: Path, store: Store) -> None:
    tree = copy_tree(SAMPLES, tmp_path / "v0.1.0")
    trace = _trace_of(tree, "research-brief")
    lines = trace.read_text().splitlines(keepends=True)
    lines[4] = lines[4][:40] + "\n"  # line 5 cut short
    trace.write_text("".join(lines))
    summary = ingest_paths([tree], store)
    assert summary.files_failed == 0  # the trace loads its other lines
    (failure,) = summary.bad_lines
    assert failure["path"] == str(trace) and failure["line"] == 5 and "invalid JSON" in failure["error"]
    (failed,) = queries.failed_files(store.engine)
    assert failed["line"] == 5
    runs = _runs_by_key(store.engine)  # everything else still loaded
    assert runs["research-brief"]["status"] == "completed"
    assert runs["flaky-etl"]["events"] == 30


def test_trace_broken_after_a_good_load_keeps_its_events(tmp_path: Path, store: Store) -> None:
    tree = copy_tree(SAMPLES, tmp_path / "v0.1.0")
    ingest_paths([tree], store)
    trace = _trace_of(tree, "weekly-digest")
    trace.write_text(trace.read_text() + '{"event_id": "x", "event_type": \n{"event_id": "y"}\n')
    summary = ingest_paths([tree], store)
    assert summary.files_failed == 1 and summary.failures[0]["path"] == str(trace)
    assert summary.failures[0]["line"] == 28  # line 27 is skipped; line 28 is JSON but no event
    assert _runs_by_key(store.engine)["weekly-digest"]["events"] == 26


def test_foreign_and_corrupt_sqlite_files(tmp_path: Path, store: Store) -> None:
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    other_events = tmp_path / "calendar.db"
    with sqlite3.connect(other_events) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, title TEXT, starts TEXT)")
    corrupt = tmp_path / "traces.db"
    corrupt.write_bytes((DOT / "traces.db").read_bytes()[:100] + b"\x00garbage" * 200)
    for path in (foreign, other_events):
        assert not loopengt_tracedb.detect(decode(path, path.read_bytes()))
    summary = ingest_paths([tmp_path], store)
    assert (summary.files_ignored, summary.files_failed, summary.files_loaded) == (2, 1, 0)
    (failure,) = summary.failures
    assert failure["path"] == str(corrupt) and "cannot read this SQLite database" in failure["error"]
    assert queries.list_runs(store.engine) == []


def test_trace_db_is_opened_read_only(tmp_path: Path) -> None:
    db = shutil.copy(DOT / "traces.db", tmp_path / "traces.db")
    before = Path(db).read_bytes()
    parsed = _parse(Path(db))
    assert len(parsed.events) == 41
    assert Path(db).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces.db"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run_id": ""}, "field 'run_id' must be a non-empty string"),
        ({"step_states": "all done"}, "field 'step_states' must be an object"),
    ],
)
def test_run_file_with_wrong_types_fails_clearly(
    tmp_path: Path, store: Store, change: dict, message: str
) -> None:
    doc = RUN_FILES["research-brief"][0] | change
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    summary = ingest_paths([path], store)
    assert summary.files_failed == 1 and message in summary.failures[0]["error"]


def test_unknown_run_status_is_unknown_with_a_warning() -> None:
    doc = RUN_FILES["research-brief"][0] | {"status": "exploded"}
    content = decode(Path("run.json"), json.dumps(doc).encode())
    parsed = loopengt_run.parse(content)
    assert parsed.runs[0].status == "unknown" and "unknown run status 'exploded'" in parsed.warnings[0]


def test_trace_db_with_odd_rows_loads_what_it_can(tmp_path: Path, store: Store) -> None:
    db = tmp_path / "traces.db"
    with sqlite3.connect(db) as connection:
        connection.execute(
            "CREATE TABLE events (event_id TEXT PRIMARY KEY, run_id TEXT, event_type TEXT, timestamp, data TEXT,"
            " turn)"
        )
        rows = [
            ("e1", "abc123", "loop.start", "2026-11-22T10:00:00+00:00", "{not json", b"\x01\xff"),
            ("e2", None, "step.start", "2026-11-22T10:00:01+00:00", "{}", 1),
            ("e3", "abc123", "loop.error", "2026-11-22T10:00:02+00:00", '{"error": "boom"}', 1),
        ]
        connection.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
        connection.execute(
            "INSERT INTO events VALUES ('e4', 'abc123', CAST(X'66ff6f' AS TEXT), 't', '{}', 2)"
        )
    summary = ingest_paths([db], store)
    assert (summary.files_loaded, summary.files_failed, summary.events) == (1, 0, 3)
    (run,) = queries.list_runs(store.engine)
    assert run["status"] == "failed" and run["failure_reason"] == "boom"
    (record,) = queries.source_files(store.engine)
    assert "1 event row(s) without run_id or event_type skipped" in record["warnings"][0]


def test_trace_lines_without_run_id_take_it_from_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "feedbeef0001.trace.jsonl"
    line = {"event_id": "1", "event_type": "loop.start", "timestamp": "2026-11-22T10:00:00Z", "run_id": ""}
    path.write_text(
        json.dumps(line) + "\n" + json.dumps(line | {"event_id": "2", "event_type": "custom"}) + "\n"
    )
    parsed = _parse(path)
    assert {e.run_native_id for e in parsed.events} == {"feedbeef0001"}
    assert parsed.runs[0].status == "running"  # started, no end recorded
    elsewhere = tmp_path / "events.jsonl"
    shutil.copy(path, elsewhere)  # the same keys without the name: not enough to claim the file
    assert not loopengt_trace.detect(decode(elsewhere, elsewhere.read_bytes()))


def test_trace_growing_between_ingests_adds_the_new_attempt(tmp_path: Path, store: Store) -> None:
    (flaky,) = RUN_FILES["flaky-etl"]
    source = DOT / "runs" / f"{flaky['run_id']}.trace.jsonl"
    lines = source.read_text().splitlines(keepends=True)
    second = next(i for i, line in enumerate(lines) if i and '"loop.start"' in line)
    trace = tmp_path / source.name
    trace.write_text("".join(lines[:second]) + lines[second][:50])  # the resume is being written
    ingest_paths([tmp_path], store)
    (run,) = queries.list_runs(store.engine)
    assert (run["status"], run["events"]) == ("failed", second)
    assert "rate_limit_exceeded" in run["failure_reason"]
    trace.write_text("".join(lines))
    summary = ingest_paths([tmp_path], store)
    # The new lines start an attempt, so the whole trace is read again (not only its tail):
    # the run's attempt list needs every attempt.
    assert summary.files_loaded == 1 and summary.events == len(lines)
    (run,) = queries.list_runs(store.engine)
    assert (run["status"], run["events"]) == ("completed", len(lines))
    attempts = queries.get_run(store.engine, run["id"])["attributes"]["attempts"]
    assert [a["outcome"] for a in attempts] == ["failed", "completed"]
    assert attempts[1]["resumed_from"]["run_id"] == flaky["run_id"]


def test_a_resume_appended_to_a_trace_over_the_size_limit_is_still_loaded(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    (flaky,) = RUN_FILES["flaky-etl"]
    source = DOT / "runs" / f"{flaky['run_id']}.trace.jsonl"
    lines = source.read_bytes().splitlines(keepends=True)
    second = next(i for i, line in enumerate(lines) if i and b'"loop.start"' in line)
    trace = tmp_path / source.name
    trace.write_bytes(b"".join(lines[:second]))
    ingest_paths([trace], store)
    monkeypatch.setenv("BATON_MAX_FILE_MB", str(len(b"".join(lines[:second])) / 1024 / 1024))
    with trace.open("ab") as handle:  # the file is now over the limit for whole reads
        handle.writelines(lines[second:])
    written: list = []
    summary = ingest_paths([trace], store, on_outcome=written.append)

    assert summary.files_failed == 0 and [o.append for o in written] == [True]
    assert "only the new lines were read" in written[0].warnings[0]
    (run,) = queries.list_runs(store.engine)
    assert (run["status"], run["events"]) == ("completed", len(lines))


def test_appended_steps_within_an_attempt_are_read_as_a_tail(store: Store, tmp_path: Path) -> None:
    (flaky,) = RUN_FILES["flaky-etl"]
    source = DOT / "runs" / f"{flaky['run_id']}.trace.jsonl"
    lines = source.read_bytes().splitlines(keepends=True)
    names = [json.loads(line)["event_type"] for line in lines]
    first_end = next(n for n, name in enumerate(names) if name in ("loop.error", "loop.complete"))
    trace = tmp_path / source.name
    trace.write_bytes(b"".join(lines[:2]))
    ingest_paths([trace], store)
    with trace.open("ab") as handle:
        handle.writelines(lines[2:first_end])
    written: list = []
    ingest_paths([trace], store, on_outcome=written.append)

    (outcome,) = written
    assert outcome.append  # only the new lines were read: they start or end no attempt
    run = queries.get_run(store.engine, queries.resolve_run_id(store.engine, flaky["run_id"]))
    assert [a["outcome"] for a in run["attributes"]["attempts"]] == [None]
    assert run["events"] == first_end

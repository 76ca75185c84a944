"""react-agent-harness parsers over the real sample files (made by the real 0.0.2 and 0.14.0
packages), through a real database and the CLI, as a user sees them."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from baton.cli import main
from core import queries
from core.db import make_engine
from core.store import Store
from ingest.content import decode
from ingest.errors import ParseError
from ingest.loader import ingest_paths, read_file
from ingest.parsers.harness import agent_checkpoint as harness_agent_checkpoint
from ingest.parsers.harness import sessions as harness_sessions
from ingest.parsers.harness import trace as harness_trace
from ingest.registry import all_formats
from tests.conftest import SAMPLE_RUNS
from tests.helpers import copy_tree, row_counts

HARNESS = SAMPLE_RUNS / "harness"
VERSIONS = ("v0.0.2", "v0.14.0")
HARNESS_FORMATS = [spec for spec in all_formats() if spec.framework == "harness"]

# scenario -> (status, failure_reason starts with (None: no reason), status inferred)
EXPECTED = {
    "routed_complete": ("completed", None, False),
    "crash_periodic": ("failed", None, True),
    "hitl_waiting": ("waiting", None, False),
    "fail_max_steps": ("failed", "Max steps (3) reached", False),
    "fail_unparseable": ("failed", "Unparseable response", False),
    "fail_budget": ("failed", "Cost budget exceeded: $0.0004 > $0.0003", False),
    "orchestrated_replan": ("completed", None, False),
    "orchestrated_killed": ("failed", None, True),
    "subagent_killed": ("failed", None, True),
}


def scenario_runs(folder: Path) -> dict[str, str]:
    """scenario -> harness run id, from the generator's trace names ``<scenario>--<run_id>.jsonl``."""
    return dict(path.name.removesuffix(".jsonl").split("--") for path in (folder / "traces").glob("*.jsonl"))


def _run(engine: Engine, native_id: str) -> dict:
    return queries.get_run(engine, queries.resolve_run_id(engine, native_id))


def _checkpoints(engine: Engine, native_id: str) -> list[dict]:
    return queries.run_checkpoints(engine, queries.resolve_run_id(engine, native_id))


def assert_harness_scenarios(engine: Engine, folder: Path) -> None:
    """What Baton shows for every scenario the generator wrote into ``folder`` (v<version>)."""
    new = folder.name != "v0.0.2"
    runs = scenario_runs(folder)
    assert set(runs) == set(EXPECTED) - ({"subagent_killed"} if not new else set())
    for scenario, run_id in runs.items():
        status, reason, inferred = EXPECTED[scenario]
        run = _run(engine, run_id)
        assert run["framework"] == "harness" and run["status"] == status, (scenario, run)
        if reason:
            assert run["failure_reason"].startswith(reason), (scenario, run["failure_reason"])
        else:
            assert run["failure_reason"] is None, (scenario, run["failure_reason"])
        assert ("status" in run["inferred"]) is inferred, (scenario, run["inferred"])
        assert run["events"] > 0 and run["started_at"] and run["ended_at"]

    done = _run(engine, runs["routed_complete"])
    assert done["checkpoints"] == 0 and done["agents"] == ["researcher"]
    if new:  # 0.14 records tokens and the adapter's cost; 0.0.2 records neither for a routed run
        assert done["input_tokens"] > done["output_tokens"] > 0 and done["cost_usd"] > 0
    else:
        assert done["input_tokens"] is None and done["cost_usd"] is None

    waiting = _checkpoints(engine, runs["hitl_waiting"])
    assert [cp["status"] for cp in waiting] == ["waiting"]
    pending = waiting[0]["attributes"]["pending"]
    assert (
        pending["tool"] == "shell"
        and pending["args"] == {"command": "rm -rf build/"}
        and pending["approval_id"]
    )
    assert waiting[0]["remaining_steps"] == ['shell {"command": "rm -rf build/"} (pending)']
    assert waiting[0]["attributes"]["checkpoint_key"] == f"{runs['hitl_waiting']}:operator"

    crashed = _run(engine, runs["crash_periodic"])
    assert crashed["failure_signals"]["checkpoint_left_on_disk"] is True
    versions = _checkpoints(engine, runs["crash_periodic"])
    assert [cp["step"] for cp in versions] == [0, 1, 2]  # versions/1..3 of one key, chained in order
    assert [cp["parent_id"] for cp in versions] == [None, versions[0]["id"], versions[1]["id"]]
    assert {cp["attributes"]["checkpoint_key"] for cp in versions} == {f"{runs['crash_periodic']}:researcher"}
    assert versions[-1]["completed_steps"] == [
        'lookup {"topic": "worker-07"}',
        'lookup {"topic": "gpu-driver"}',
    ]

    for scenario in ("fail_max_steps", "fail_unparseable", "fail_budget"):
        assert _run(engine, runs[scenario])["failure_signals"]["error"].startswith(EXPECTED[scenario][1])

    replan = _run(engine, runs["orchestrated_replan"])
    assert (
        replan["task"] == "Fix the worker-07 memory leak" and replan["failure_signals"]["replan_count"] == 1
    )
    assert replan["failure_signals"]["task_errors"] == {"t2": "Max steps (2) reached"}
    assert replan["cost_usd"] > 0
    if new:  # the failed task's checkpoint stays on disk, under the orchestration's run
        assert replan["input_tokens"] > 0
        [left] = _checkpoints(engine, runs["orchestrated_replan"])
        assert left["agent_id"] == "analyst" and left["attributes"]["task_id"] == "t2"

    killed = _run(engine, runs["orchestrated_killed"])
    assert set(killed["agents"]) == {"researcher", "reporter", "analyst"}
    assert killed["failure_signals"]["task_statuses"] == (
        {"t1": "done", "t3": "skipped", "t2": "running"}
        if new
        else {"t1": "done", "t3": "failed", "t2": "pending"}
    )
    assert killed["failure_signals"]["task_errors"]["t3"].startswith("Unparseable response")
    by_agent = {cp["agent_id"]: cp for cp in _checkpoints(engine, runs["orchestrated_killed"])}
    assert set(by_agent) == {"orchestrator", "analyst"}
    assert by_agent["orchestrator"]["completed_steps"] == [
        "t1 (researcher): Find the root cause of the worker-07 leak"
    ]
    assert by_agent["orchestrator"]["remaining_steps"] == [
        "t2 (analyst): Roll out the pinned driver to the fleet"
    ]

    if new:
        lead = _checkpoints(engine, runs["subagent_killed"])[0]
        [sub_id] = lead["attributes"]["sub_runs"]
        sub = _run(engine, sub_id)
        assert sub["attributes"]["parent_run_id"] == runs["subagent_killed"]
        assert sub["agents"] == ["researcher"] and sub["status"] == "failed" and sub["events"] > 0
        assert [cp["agent_id"] for cp in _checkpoints(engine, sub_id)] == ["researcher"]
        chat = _run(engine, "session:ops-chat")
        assert chat["status"] == "failed" and chat["failure_reason"].startswith("Unparseable response")
        assert chat["input_tokens"] > 0 and chat["events"] == 4
        assert _run(engine, "session:release-chat")["status"] == "completed"


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('harness') / 'baton.db'}")
    summary = ingest_paths([HARNESS], Store(engine))
    assert summary.files_failed == 0 and summary.files_ignored == 0, summary.failures
    yield engine
    engine.dispose()


@pytest.mark.parametrize("version", VERSIONS)
def test_every_sample_scenario_shows_its_status(sample_engine: Engine, version: str) -> None:
    assert_harness_scenarios(sample_engine, HARNESS / version)


def _expected_format(path: Path) -> str:
    folder = path.parent.name if path.parent.name in ("traces", "budgets", "sessions") else "checkpoints"
    if folder == "checkpoints":
        return "harness.agent_checkpoint" if ":" in path.name else "harness.orchestrator"
    return {"traces": "harness.trace", "budgets": "harness.budget", "sessions": "harness.sessions"}[folder]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in HARNESS.rglob("*") if p.is_file() and p.name != "README.md"),
    ids=lambda p: str(p.relative_to(HARNESS)),
)
def test_each_sample_file_loads_as_its_format(path: Path) -> None:
    outcome = read_file(path, None)
    assert outcome.outcome == "loaded" and outcome.format == _expected_format(path), outcome.error
    assert outcome.warnings == []


def test_no_other_framework_file_is_taken_for_a_harness_one() -> None:
    for path in SAMPLE_RUNS.rglob("*"):
        if (
            not path.is_file()
            or path.is_relative_to(HARNESS)
            or path.suffix not in (".json", ".jsonl", ".sqlite", ".db")
        ):
            continue
        try:
            content = decode(path, path.read_bytes())
        except ParseError:
            continue
        assert not [spec.name for spec in HARNESS_FORMATS if spec.detect(content)], path


def baton(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_cli_lists_and_shows_harness_runs(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    code, _ = baton(capsys, "ingest", str(HARNESS), "--db", sqlite_url, "--json")
    assert code == 0
    code, out = baton(capsys, "runs", "--db", sqlite_url, "--json", "--framework", "harness")
    runs = {run["native_id"]: run for run in json.loads(out)}
    assert code == 0 and len(runs) == 20  # 8 + 9 scenarios, one sub-agent run, two chat sessions
    routed = runs[scenario_runs(HARNESS / "v0.14.0")["routed_complete"]]
    assert (routed["status"], routed["input_tokens"], routed["output_tokens"]) == ("completed", 832, 79)
    assert routed["cost_usd"] == pytest.approx(0.0001722)
    code, out = baton(
        capsys, "runs", "--db", sqlite_url, "--json", "--framework", "harness", "--status", "waiting"
    )
    assert sorted(run["native_id"] for run in json.loads(out)) == sorted(
        scenario_runs(HARNESS / v)["hitl_waiting"] for v in VERSIONS
    )
    killed = scenario_runs(HARNESS / "v0.14.0")["orchestrated_killed"]
    code, out = baton(capsys, "show", killed[:13], "--db", sqlite_url, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["native_id"] == killed and shown["status"] == "failed"
    keys = {cp["agent_id"]: cp["attributes"]["checkpoint_key"] for cp in shown["checkpoints"]}
    assert keys == {"orchestrator": killed, "analyst": f"{killed}:t2:analyst"}


def test_ingest_is_idempotent(tmp_path: Path, store: Store) -> None:
    folder = copy_tree(HARNESS, tmp_path / "harness")
    ingest_paths([folder], store)
    before, runs = row_counts(store.engine), queries.list_runs(store.engine, framework="harness")
    again = ingest_paths([folder], store)
    assert again.files_loaded == 0 and again.files_unchanged == again.files_seen
    for path in folder.rglob("*"):  # same bytes, new mtime: parsed again, nothing changes
        if path.is_file():
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    ingest_paths([folder], store)
    assert row_counts(store.engine) == before
    assert queries.list_runs(store.engine, framework="harness") == runs


def test_a_key_overwritten_in_place_keeps_every_version(tmp_path: Path, store: Store) -> None:
    versions = sorted((HARNESS / "v0.14.0" / "versions").glob("*/*.json"), key=lambda p: int(p.parent.name))
    key_file = tmp_path / "checkpoints" / versions[0].name
    key_file.parent.mkdir()
    seen = []
    for number, version in enumerate(versions[:2], start=1):
        key_file.write_bytes(version.read_bytes())
        os.utime(key_file, ns=(number * 10**9, number * 10**9))
        ingest_paths([key_file.parent], store)
        seen = _checkpoints(store.engine, key_file.name.split(":")[0])
        assert len(seen) == number
    assert [cp["step"] for cp in seen] == [0, 1] and seen[1]["parent_id"] == seen[0]["id"]
    key_file.unlink()  # the harness deletes the file when the agent finishes: the versions stay
    summary = ingest_paths([key_file.parent], store)
    assert summary.files_seen == 0
    assert [cp["id"] for cp in _checkpoints(store.engine, key_file.name.split(":")[0])] == [
        cp["id"] for cp in seen
    ]
    [row] = [f for f in queries.source_files(store.engine) if f["path"] == str(key_file)]
    assert row["outcome"] == "deleted"


# -- bad and foreign input ---------------------------------------------------------------------------


def _write(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def _agent_sample(version: str, scenario: str) -> Path:
    run_id = scenario_runs(HARNESS / version)[scenario]
    return next((HARNESS / version / "checkpoints").glob(f"{run_id}:*.json"))


def test_agent_checkpoint_without_run_id_fails_with_a_clear_reason(tmp_path: Path) -> None:
    doc = json.loads(_agent_sample("v0.14.0", "hitl_waiting").read_bytes())
    doc["run_id"] = 7
    outcome = read_file(_write(tmp_path / "x:operator.json", doc), None)
    assert (outcome.outcome, outcome.error) == (
        "failed",
        "agent checkpoint field 'run_id' must be a non-empty string",
    )


def test_renamed_checkpoint_loads_with_the_key_the_harness_would_use(tmp_path: Path) -> None:
    source = _agent_sample("v0.0.2", "hitl_waiting")
    outcome = read_file(_write(tmp_path / "copy of checkpoint.json", source.read_text()), None)
    assert outcome.outcome == "loaded" and "not this checkpoint's key" in outcome.warnings[0]
    [checkpoint] = outcome.parsed.checkpoints
    assert checkpoint.attributes["checkpoint_key"] == source.name.removesuffix(".json")
    assert "checkpoint_key" in checkpoint.inferred and checkpoint.status == "waiting"


def test_trace_keeps_good_lines_around_a_broken_one_and_rejects_foreign_lines(tmp_path: Path) -> None:
    lines = (HARNESS / "v0.14.0/traces").glob("fail_max_steps--*.jsonl").__next__().read_text().splitlines()
    broken = _write(tmp_path / "t.jsonl", "\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    outcome = read_file(broken, None)
    assert outcome.outcome == "loaded" and len(outcome.warnings) == 1
    assert outcome.warnings[0].startswith(f"{broken}:2: skipped: invalid JSON")
    assert len(outcome.parsed.events) == len(lines)
    assert outcome.parsed.runs[0].native_id == f"trace:{broken}"  # no run id in the name: the file is the run
    assert outcome.parsed.runs[0].status == "failed"
    foreign = _write(tmp_path / "u.jsonl", "\n".join([lines[0], json.dumps({"hello": 1})]) + "\n")
    with pytest.raises(ParseError, match="not a harness trace event") as error:
        harness_trace.parse(decode(foreign, foreign.read_bytes()))
    assert error.value.line == 2


def test_one_line_trace_is_still_a_trace(tmp_path: Path) -> None:
    first = (
        (HARNESS / "v0.14.0/traces").glob("routed_complete--*.jsonl").__next__().read_text().splitlines()[0]
    )
    outcome = read_file(_write(tmp_path / "one.jsonl", first + "\n"), None)
    assert outcome.format == "harness.trace" and len(outcome.parsed.events) == 1


def test_budget_snapshot_without_a_run_id_in_its_name_fails_clearly(tmp_path: Path) -> None:
    source = next((HARNESS / "v0.14.0/budgets").glob("*.json"))
    outcome = read_file(_write(tmp_path / "budget.json", source.read_text()), None)
    assert outcome.outcome == "failed" and "budget snapshot names no run" in outcome.error


def test_session_store_is_read_only_and_other_databases_are_not_taken(tmp_path: Path) -> None:
    database = copy_tree(HARNESS / "v0.14.0/sessions", tmp_path / "sessions") / "sessions.sqlite"
    before = database.read_bytes()
    outcome = read_file(database, None)
    assert outcome.format == "harness.sessions" and len(outcome.parsed.runs) == 2
    assert database.read_bytes() == before and sorted(p.name for p in database.parent.iterdir()) == [
        "sessions.sqlite"
    ]
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE sessions (session_id TEXT PRIMARY KEY)")
    assert not harness_sessions.detect(decode(other, other.read_bytes()))


def test_corrupt_session_store_is_a_recorded_failure(tmp_path: Path) -> None:
    data = bytearray((HARNESS / "v0.14.0/sessions/sessions.sqlite").read_bytes())
    data[16:18] = b"\x00\x03"  # an impossible page size: SQLite refuses the file
    corrupt = tmp_path / "sessions.sqlite"
    corrupt.write_bytes(bytes(data))
    content = decode(corrupt, bytes(data))
    assert harness_sessions.detect(content)
    with pytest.raises(ParseError, match="cannot read the harness session store"):
        harness_sessions.parse(content)
    outcome = read_file(corrupt, None)
    assert outcome.outcome == "failed" and "database" in outcome.error
    assert "harness session store" in outcome.error  # recognised by its schema, not taken for loopengt's


def test_foreign_json_is_not_a_harness_checkpoint(tmp_path: Path) -> None:
    doc = {"run_id": "r1", "agent_id": "a", "task": "t", "step": 0, "memory": "not a dict"}
    content = decode(tmp_path / "r1:a.json", json.dumps(doc).encode())
    assert not harness_agent_checkpoint.detect(content)
    assert not [
        spec for spec in HARNESS_FORMATS if spec.detect(decode(tmp_path / "p.json", b'{"name": "x"}'))
    ]


def test_sample_readme_names_every_sample_file() -> None:
    readme = (HARNESS / "README.md").read_text()
    for version in VERSIONS:
        for scenario, run_id in scenario_runs(HARNESS / version).items():
            assert f"`{scenario}` ({run_id[:8]})" in readme, (version, scenario)


def test_trace_read_in_appended_chunks_ends_as_the_whole_file(tmp_path: Path, store: Store) -> None:
    """A live orchestration: an agent's max-steps error does not fail the run; ``done`` completes it."""
    source = next((HARNESS / "v0.14.0/traces").glob("orchestrated_replan--*.jsonl"))
    lines = source.read_text().splitlines(keepends=True)
    error_at = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == "error") + 1
    trace = tmp_path / source.name
    run_id = source.name.removesuffix(".jsonl").split("--")[1]
    for number, (start, end) in enumerate(
        [(0, error_at), (error_at, error_at + 3), (error_at + 3, len(lines))]
    ):
        with trace.open("a") as handle:
            handle.write("".join(lines[start:end]))
        os.utime(trace, ns=((number + 1) * 10**9, (number + 1) * 10**9))
        ingest_paths([trace], store)
        run = _run(store.engine, run_id)
        assert run["events"] == end
        assert run["status"] == ("completed" if end == len(lines) else "unknown"), (end, run["status"])
    assert (run["input_tokens"], run["output_tokens"]) == (7520, 374)
    assert run["failure_signals"]["replan_count"] == 1 and run["failure_reason"] is None

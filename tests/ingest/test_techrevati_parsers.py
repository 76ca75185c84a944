"""The techrevati-runtime parsers over the committed samples of both versions (made by the
real package, see sample_runs/techrevati/README.md), ingested into a real database."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from baton.cli import main
from core import queries
from core.db import make_engine
from core.store import Store
from core.tables import Event, Price
from ingest.content import decode
from ingest.loader import ingest_paths
from ingest.parsers.techrevati import events as techrevati_events
from ingest.parsers.techrevati import store as techrevati_store
from ingest.parsers.techrevati import stream as techrevati_stream
from ingest.parsers.techrevati.stream import GROUPING_RULE
from ingest.registry import all_formats, detect_format
from tests.conftest import SAMPLE_RUNS
from tests.helpers import row_counts

ROOT = SAMPLE_RUNS / "techrevati"
VERSIONS = sorted(p.name for p in ROOT.glob("v*"))
SAMPLES = sorted(p for p in ROOT.rglob("*") if p.suffix in (".json", ".jsonl", ".sqlite"))
TECHREVATI_FORMATS = [spec for spec in all_formats() if spec.framework == "techrevati"]

# What differs between the versions (see the README table).
TEXTS = {
    "v0.1.0": {
        "analyst": "model call timed out",
        "researcher": "connection reset by peer",
        "circuit": "Circuit breaker 'model-api' is OPEN",
        "writer_class": "llm_error",
        "writer": "budget exceeded: $0.0300 > $0.0200",
        "completed_cost": 0.0162,
    },
    "v0.4.0": {
        "analyst": "TimeoutError raised",
        "researcher": "ConnectionError raised",
        "circuit": "CircuitOpenError raised",
        "writer_class": "rate_limit",
        "writer": "BudgetExceededError raised",
        "completed_cost": 0.01638,
    },
}


def _runs(engine: Engine) -> list[dict[str, Any]]:
    return queries.list_runs(engine, framework="techrevati")


def run_of(
    runs: list[dict[str, Any]], file: str, role: str | None = None, phase: str | None = None
) -> dict[str, Any]:
    """The one run that ``file`` describes for ``role`` (and ``phase``); a run recorded by
    several files lists them all in ``sources``."""
    found = [
        r
        for r in runs
        if file in {Path(s).name for s in r["attributes"].get("sources", [r["attributes"].get("source", "")])}
        and (role is None or r["attributes"].get("role") == role)
        and (phase is None or r["attributes"].get("phase") == phase)
    ]
    assert len(found) == 1, (file, role, [r["native_id"] for r in found])
    return found[0]


def _sources(run: dict[str, Any]) -> set[str]:
    return {Path(s).name for s in run["attributes"].get("sources", [run["attributes"].get("source", "")])}


def events_of(engine: Engine, run_id: str, kind: str | None = None) -> list[Any]:
    query = select(Event).where(Event.run_id == run_id).order_by(Event.seq)
    if kind:
        query = query.where(Event.kind == kind)
    with engine.connect() as connection:
        return list(connection.execute(query))


def assert_techrevati_scenarios(engine: Engine, version: str) -> None:
    """Every scenario of the README table, as a user of ``baton runs``/``show`` sees it."""
    runs = _runs(engine)
    text = TEXTS[version]
    v04 = version == "v0.4.0"

    # completed.jsonl: tokens, cache and the package's own cost, usage events per model
    done = run_of(runs, "completed.jsonl", "researcher")
    assert done["status"] == "completed" and done["agents"] == ["researcher"]
    assert (done["input_tokens"], done["output_tokens"]) == (2500, 620)
    assert (done["cache_read_tokens"], done["cache_write_tokens"]) == (1300, 1100)
    assert done["cost_usd"] == pytest.approx(text["completed_cost"])
    assert done["attributes"]["grouping_rule"] == GROUPING_RULE
    usage = events_of(engine, done["id"], "usage")
    assert {e.model for e in usage} == {"model-a", "model-a-20260514", "model-b"}
    assert all(e.cost_usd is not None and e.cost_usd > 0 for e in usage)

    # failures.jsonl: three sessions of one stream, recoveries as first-class data
    analyst = run_of(runs, "failures.jsonl", "analyst")
    assert analyst["status"] == "failed" and analyst["failure_reason"] == text["analyst"]
    assert analyst["failure_signals"]["failure_class"] == "llm_timeout"
    assert analyst["failure_signals"]["scenario"] == "llm_timeout"
    assert analyst["failure_signals"]["recovery_outcome"] == "escalation_required"
    recoveries = events_of(engine, analyst["id"], "recovery")
    assert [e.data.get("outcome") for e in recoveries if e.data.get("outcome")][-1] == "escalation_required"
    assert all(e.data["scenario"] == "llm_timeout" for e in recoveries)
    (error,) = events_of(engine, analyst["id"], "error")
    assert error.error == text["analyst"] and error.data["failure_class"] == "llm_timeout"
    assert run_of(runs, "failures.jsonl", "coder")["status"] == "completed"
    researcher = run_of(runs, "failures.jsonl", "researcher")
    assert researcher["status"] == "failed" and researcher["failure_reason"] == text["researcher"]
    assert researcher["failure_signals"]["failure_class"] == "dependency_failed"
    assert researcher["failure_signals"]["scenario"] == "provider_failure"

    # the same sessions' summaries: the stream's run (one run per session, both files its
    # sources), the worker named, tokens and cost from the summary
    summary = run_of(runs, "failures.analyst.summary.json", "analyst")
    assert summary["id"] == analyst["id"]
    assert summary["attributes"]["worker_id"].startswith("analyst-triage-") and summary["status"] == "failed"
    assert summary["failure_signals"]["recovery_outcome"] == "escalation_required"
    assert (summary["input_tokens"], summary["output_tokens"]) == (700, 150)
    assert summary["cost_usd"] == pytest.approx(0.00116)
    attempts = [
        e for e in events_of(engine, summary["id"], "recovery") if e.name == "agent.recovery.attempted"
    ]
    assert [e.data["outcome"] for e in attempts] == ["recovered", "recovered", "escalation_required"]

    # circuit breaker: an open breaker shows only in the failure text; kept as a signal. The
    # fetcher's worker dump joins its session's run (one run, both files its sources)
    circuit = run_of(runs, "circuit.events.json", "fetcher")
    assert run_of(runs, "circuit.worker.json", "fetcher")["id"] == circuit["id"]
    assert circuit["status"] == "failed" and circuit["failure_reason"] == text["circuit"]
    assert circuit["failure_signals"]["circuit_breaker"] == "open"
    assert circuit["attributes"]["worker_id"].startswith("fetcher-collect-")
    assert [
        e.name for e in events_of(engine, circuit["id"], "lifecycle") if e.name.startswith("worker.")
    ] == [
        "worker.initializing",
        "worker.running",
        "worker.failed",
    ]

    # budget exceeded: enforced (failed) and only warned (completed)
    budget_file = "budget.audit.jsonl" if v04 else "budget.jsonl"
    writer = run_of(runs, budget_file, "writer")
    assert writer["status"] == "failed" and writer["failure_reason"] == text["writer"]
    assert writer["failure_signals"]["failure_class"] == text["writer_class"]
    assert writer["failure_signals"]["budget_exceeded"]["budget_usd"] == 0.02
    assert writer["cost_usd"] == pytest.approx(0.03)
    editor = run_of(runs, budget_file, "editor")
    assert (
        editor["status"] == "completed"
        and editor["failure_signals"]["budget_exceeded"]["budget_usd"] == 0.001
    )

    # handoff and the registry of workers
    planner = run_of(runs, "handoff.jsonl", "planner")
    assert [e.name for e in events_of(engine, planner["id"], "handoff")] == ["agent.completed"]
    registry = [r for r in runs if "handoff.registry.json" in _sources(r)]
    assert sorted(r["status"] for r in registry) == ["completed", "completed", "paused"]
    # the workers that ran joined their sessions' runs; the handoff target that never ran
    # (left initializing) has no session: a run of its own
    for role in ("planner", "coder"):
        joined = run_of(runs, "handoff.jsonl", role)
        assert "handoff.registry.json" in _sources(joined) and joined["status"] == "completed"
        assert joined["attributes"]["worker_id"].startswith(f"{role}-design-")
    (target,) = [r for r in registry if r["status"] == "paused"]
    assert target["native_id"] == target["attributes"]["worker_id"] and _sources(target) == {
        "handoff.registry.json"
    }
    assert target["inferred"] == ["status"]

    # usage without events, tracker snapshots
    only = run_of(runs, "usage_only.usage.jsonl")
    assert only["status"] == "unknown" and (only["input_tokens"], only["output_tokens"]) == (1900, 480)
    assert only["cost_usd"] == pytest.approx(0.002912)
    tracker = run_of(runs, "tracker.json")
    assert (tracker["input_tokens"], tracker["output_tokens"]) == (3500, 800)
    assert tracker["cost_usd"] == pytest.approx(0.0162)

    # a session waiting for a human; 0.4: the worker joins the session's run (0.1 records no
    # event of the session, only its usage: the worker stays a run of its own)
    waiting = run_of(runs, "waiting.worker.json", "operator")
    assert waiting["status"] == "waiting"
    if v04:
        assert run_of(runs, "waiting.jsonl", "operator")["id"] == waiting["id"]
    else:
        assert _sources(waiting) == {"waiting.worker.json"}

    # pricing.json: prices in USD per 1M tokens, source = the file
    with engine.connect() as connection:
        prices = {p.model: p for p in connection.execute(select(Price))}
    assert set(prices) >= {"model-a", "model-b", "model-c"}
    assert (prices["model-a"].input_per_million, prices["model-a"].output_per_million) == (3.0, 15.0)
    assert prices["model-a"].source.endswith(f"{version}/pricing.json")

    if v04:
        assert_store_scenarios(engine, runs)


def assert_store_scenarios(engine: Engine, runs: list[dict[str, Any]]) -> None:
    """0.4 SQLite stores: a crash-and-resume thread with chained checkpoints; a guarded run."""
    thread = run_of(runs, "resume.sqlite", "writer")
    assert thread["attributes"]["thread_id"] == "resume-demo"
    assert thread["status"] == "completed"
    assert thread["attributes"]["interrupted_sessions"] == 1 and thread["attributes"]["sessions_started"] == 2
    assert (thread["input_tokens"], thread["output_tokens"]) == (2600, 520)
    assert thread["cost_usd"] == pytest.approx(0.0156)
    checkpoints = queries.run_checkpoints(engine, thread["id"])
    assert [cp["attributes"]["idempotency_key"] for cp in checkpoints] == [
        "turn-1",
        "turn-2",
        "turn-3",
        "turn-4",
    ]
    assert checkpoints[0]["parent_id"] is None
    assert all(cp["parent_id"] == prev["id"] for prev, cp in zip(checkpoints, checkpoints[1:], strict=False))
    assert checkpoints[-1]["completed_steps"] == ["turn-1", "turn-2", "turn-3", "turn-4"]
    steps = events_of(engine, thread["id"], "checkpoint")
    assert sorted(e.data["step_key"] for e in steps) == ["draft", "outline"]
    guarded = run_of(runs, "audited.sqlite", "operator")
    assert guarded["status"] == "failed" and guarded["failure_reason"] == "GuardrailViolatedError raised"
    assert guarded["failure_signals"]["failure_class"] == "guardrail_violation"
    assert guarded["attributes"]["audit_chain"] == {"records": 14, "verified": True, "signed": True}
    blocked = [e for e in events_of(engine, guarded["id"]) if e.name == "agent.blocked"]
    assert {e.data["data"]["kind"] for e in blocked} == {"guardrail", "permission"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sample_is_detected_by_exactly_one_techrevati_format(path: Path) -> None:
    content = decode(path, path.read_bytes())
    matching = [spec.name for spec in TECHREVATI_FORMATS if spec.detect(content)]
    assert len(matching) == 1, matching
    spec = detect_format(content)
    assert spec is not None and spec.name == matching[0]
    parsed = spec.parse(content)
    assert parsed.runs or parsed.prices
    assert not parsed.warnings


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_shows_every_scenario(version: str, store: Store) -> None:
    summary = ingest_paths([ROOT / version], store)
    assert summary.files_failed == 0 and summary.files_ignored == 0
    assert_techrevati_scenarios(store.engine, version)


def test_reingest_is_idempotent(store: Store, tmp_path: Path) -> None:
    folder = shutil.copytree(ROOT / "v0.4.0", tmp_path / "v0.4.0")
    ingest_paths([folder], store)
    counts, runs = row_counts(store.engine), _runs(store.engine)
    again = ingest_paths([folder], store)
    assert again.files_loaded == 0 and again.files_unchanged == again.files_seen
    (folder / "failures.jsonl").touch()  # mtime moved, same content: read and hashed, not re-parsed
    ingest_paths([folder], store)
    assert row_counts(store.engine) == counts and _runs(store.engine) == runs


def _view(engine: Engine) -> list[tuple[Any, ...]]:
    keys = (
        "native_id",
        "status",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "failure_reason",
        "failure_signals",
    )
    return sorted(tuple(json.dumps(run[key], sort_keys=True) for key in keys) for run in _runs(engine))


@pytest.mark.parametrize("file", ["failures.jsonl", "completed.jsonl", "waiting.jsonl"])
def test_a_stream_read_line_by_line_ends_as_read_at_once(file: str, store: Store, tmp_path: Path) -> None:
    """A watcher reads a growing 0.4 stream one appended line at a time (append-only tails):
    usage lines still reach the open session, and the runs end as a one-shot read shows them."""
    lines = (ROOT / "v0.4.0" / file).read_bytes().splitlines(keepends=True)
    target = tmp_path / "live" / file
    target.parent.mkdir()
    target.write_bytes(b"")
    for line in lines:
        with target.open("ab") as handle:
            handle.write(line)
        summary = ingest_paths([target], store)
        assert summary.files_failed == 0
    once = Store(make_engine(f"sqlite:///{tmp_path / 'once.db'}"))
    ingest_paths([target], once)
    assert _view(store.engine) == _view(once.engine)
    assert row_counts(store.engine)["event"] == len(lines) == row_counts(once.engine)["event"]
    assert not [r for r in _runs(store.engine) if r["native_id"].endswith("#unattributed")]


def test_runs_json_lists_techrevati_runs_with_tokens_and_cost(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    assert main(["ingest", str(ROOT), "--db", sqlite_url, "--json"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", sqlite_url, "--framework", "techrevati", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    thread = next(r for r in runs if r["attributes"].get("thread_id") == "resume-demo")
    assert thread["status"] == "completed" and thread["checkpoints"] == 4
    assert thread["input_tokens"] == 2600 and thread["cost_usd"] == pytest.approx(0.0156)
    failed = {r["failure_reason"] for r in runs if r["status"] == "failed"}
    assert {"CircuitOpenError raised", "Circuit breaker 'model-api' is OPEN"} <= failed
    assert main(["show", thread["id"], "--db", sqlite_url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "resume-demo" in json.dumps(shown)


def test_corrupt_store_fails_with_a_reason_and_foreign_database_is_ignored(
    store: Store, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.sqlite"
    data = bytearray((ROOT / "v0.4.0" / "resume.sqlite").read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = b"\xff" * (len(data) - page)  # the schema page survives, every table page is garbage
    corrupt.write_bytes(bytes(data))
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE checkpoints (thread_id TEXT, checkpoint_ns TEXT, checkpoint BLOB)")
        connection.execute("CREATE TABLE agent_events (id INTEGER, body TEXT)")
    connection.close()
    assert techrevati_store.detect(decode(corrupt, corrupt.read_bytes()))
    assert not techrevati_store.detect(decode(foreign, foreign.read_bytes()))
    summary = ingest_paths([tmp_path], store)
    outcomes = {Path(f["path"]).name: f for f in queries.source_files(store.engine)}
    assert outcomes["foreign.sqlite"]["outcome"] == "ignored"
    assert outcomes["corrupt.sqlite"]["outcome"] == "failed"
    assert "cannot read the techrevati SQLite store" in outcomes["corrupt.sqlite"]["error"]
    assert summary.files_failed == 1 and not _runs(store.engine)


def test_pricing_like_and_other_frameworks_files_are_not_taken(tmp_path: Path) -> None:
    other = [
        p
        for p in SAMPLE_RUNS.rglob("*")
        if p.suffix in (".json", ".jsonl") and p.is_file() and ROOT not in p.parents and "loop" not in p.parts
    ]
    for path in other:
        try:
            content = decode(path, path.read_bytes())
        except Exception:  # noqa: BLE001 - broken samples fail before any detect
            continue
        assert not [spec.name for spec in TECHREVATI_FORMATS if spec.detect(content)], path
    lookalike = tmp_path / "pricing.json"
    lookalike.write_text(json.dumps({"models": {"gpt": {"name": "gpt", "context": 128000}}}))
    assert detect_format(decode(lookalike, lookalike.read_bytes())) is None


def test_a_line_that_is_not_an_event_fails_the_stream_with_its_line(tmp_path: Path) -> None:
    lines = (ROOT / "v0.4.0" / "completed.jsonl").read_text().splitlines()
    lines.insert(2, json.dumps({"hello": "world"}))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    content = decode(path, path.read_bytes())
    assert techrevati_events.detect(content)
    with pytest.raises(Exception, match=r"mixed.jsonl:3: not a techrevati AgentEvent"):
        techrevati_events.parse(content)


def test_a_tail_read_from_a_session_start_gives_the_same_runs_and_event_ids() -> None:
    path = ROOT / "v0.4.0" / "failures.jsonl"
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if b'"agent.started"' in line and b'"coder"' in line)
    whole = techrevati_events.parse(decode(path, data))
    offset = len(b"".join(lines[:start]))
    tail = techrevati_events.parse(decode(path, b"".join(lines[start:]), first_line=start + 1, offset=offset))
    assert {r.native_id for r in tail.runs} < {r.native_id for r in whole.runs}
    whole_ids = {(e.run_native_id, e.native_id) for e in whole.events}
    assert {(e.run_native_id, e.native_id) for e in tail.events} <= whole_ids
    assert len(tail.events) == len(lines) - start


def test_the_grouping_rule_shown_on_runs_is_the_documented_one() -> None:
    documented = " ".join((techrevati_stream.__doc__ or "").strip().split("\n\n")[-1].split())
    assert documented == GROUPING_RULE


def _stream_lines() -> tuple[list[bytes], list[bytes]]:
    """A long event stream whose last session is still open (its start some 150 KB back),
    and the lines appended next: a usage record (which belongs to that open session), then
    a new session that starts and ends."""
    sample = [json.loads(line) for line in (ROOT / "v0.4.0" / "completed.jsonl").read_text().splitlines()]

    def session(project: int, events: list[dict]) -> list[bytes]:
        out = []
        for value in events:
            if "project_id" in value:
                value = value | {"project_id": project}
            out.append(json.dumps(value).encode() + b"\n")
        return out

    started, tool_called, tool_completed, completed = (sample[i] for i in (0, 2, 3, 7))
    usage = sample[1]
    head = [line for project in range(40) for line in session(project, sample)]
    head += session(999, [started] + [tool_called, tool_completed] * 300)
    tail = session(999, [usage]) + session(1000, [started, completed])
    return head, tail


def _run_tokens(engine: Engine) -> dict[Any, tuple[Any, Any]]:
    return {
        run["attributes"].get("project_id"): (run["input_tokens"], run["status"])
        for run in queries.list_runs(engine)
    }


def test_appending_to_a_long_stream_reads_back_only_to_the_open_session(tmp_path: Path) -> None:
    head, tail = _stream_lines()
    assert len(b"".join(head[-601:])) > 2 * 65536  # the open session spans several blocks
    stream = tmp_path / "long.jsonl"
    stream.write_bytes(b"".join(head))
    tailed = Store(make_engine(f"sqlite:///{tmp_path / 'tailed.db'}"))
    ingest_paths([stream], tailed)
    with stream.open("ab") as handle:
        handle.writelines(tail)
    written: list = []
    ingest_paths([stream], tailed, on_outcome=written.append)
    assert [o.append for o in written] == [True]

    whole = Store(make_engine(f"sqlite:///{tmp_path / 'whole.db'}"))
    ingest_paths([stream], whole)
    tokens = _run_tokens(tailed.engine)
    assert tokens == _run_tokens(whole.engine)
    # The appended usage record went to the session open before it, not to the next one.
    assert tokens[999][0] == 1200
    assert tokens[1000] == (None, "completed")


@pytest.mark.parametrize("version", ["0.1.0", "0.4.0"])
def test_a_pricing_file_that_omits_cache_rates_costs_what_the_package_charges(
    version: str, tmp_path: Path
) -> None:
    """techrevati reads a rate its pricing.json omits as 0 (and a 0 lifetime rate as the
    cache-write rate); our computed cost of the same turns from the same file agrees with the
    package's own UsageTracker, while the user's prices file keeps its own rule (an omitted
    cache rate is the input rate)."""
    from core.call_cost import Call, price_call
    from core.prices import load_price_book
    from tests.core.test_costs import techrevati_costs

    folder = tmp_path / "prices"
    folder.mkdir()
    models = {
        "model-x": {"input_per_million": 3.0, "output_per_million": 15.0},  # no cache rates at all
        "model-y": {"input_per_million": 1.0, "output_per_million": 5.0, "cache_write_per_million": 1.25},
    }
    if version == "0.4.0":
        models["model-y"] |= {"cache_write_5min_per_million": 0, "cache_write_1h_per_million": 2.0}
    (folder / "pricing.json").write_text(json.dumps({"models": models}))
    engine = make_engine(f"sqlite:///{tmp_path / 'baton.db'}")
    assert ingest_paths([folder], Store(engine)).files_loaded == 1
    book = load_price_book(engine, user_path=tmp_path / "no-user-prices.toml")
    turns = {
        "x": [
            [
                "model-x",
                {
                    "input_tokens": 1000,
                    "output_tokens": 200,
                    "cache_write_tokens": 500,
                    "cache_read_tokens": 4000,
                },
            ]
        ],
        "y": [
            [
                "model-y",
                {
                    "input_tokens": 800,
                    "output_tokens": 100,
                    "cache_write_tokens": 300,
                    "cache_read_tokens": 2000,
                },
            ]
        ],
    }
    if version == "0.4.0":
        for ttl in ("5m", "1h"):
            turns[f"y-{ttl}"] = [
                [
                    "model-y",
                    {
                        "input_tokens": 10,
                        "output_tokens": 1,
                        "cache_write_tokens": 1000,
                        "cache_read_tokens": 0,
                        "cache_ttl": ttl,
                    },
                ]
            ]
    ours = {}
    for run, calls in turns.items():
        ours[run] = sum(
            price_call(
                Call(
                    run,
                    "techrevati",
                    model=model,
                    input_tokens=usage["input_tokens"],
                    output_tokens=usage["output_tokens"],
                    cache_read_tokens=usage["cache_read_tokens"],
                    cache_write_tokens=usage["cache_write_tokens"],
                    cache_ttl=usage.get("cache_ttl"),
                ),
                book,
            ).computed_usd
            or 0.0
            for model, usage in calls
        )
    theirs = techrevati_costs(version, folder / "pricing.json", turns)
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert ours["x"] == pytest.approx((1000 * 3.0 + 200 * 15.0) / 1e6)  # cache tokens free, as documented

    # The user's file documents its own rule: an omitted cache rate is the input rate.
    user = tmp_path / "prices.toml"
    user.write_text('[models."model-x"]\ninput = 3.0\noutput = 15.0\n')
    mine = price_call(
        Call(
            "x",
            "techrevati",
            model="model-x",
            input_tokens=1000,
            output_tokens=200,
            cache_read_tokens=4000,
            cache_write_tokens=500,
        ),
        load_price_book(engine, user_path=user),
    )
    assert mine.computed_usd == pytest.approx((1000 * 3.0 + 200 * 15.0 + 4500 * 3.0) / 1e6)

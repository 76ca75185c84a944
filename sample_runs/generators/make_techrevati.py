"""Write real techrevati-runtime artifacts for Baton's samples and interop tests.

Run it with the python of a venv holding one techrevati-runtime version:

    $(python tests/framework_envs.py techrevati-runtime 0.4.0) \
        sample_runs/generators/make_techrevati.py --out DIR

It writes ``DIR/v<version>/``. The package writes almost nothing to disk by itself
(0.4's SQLite stores are the exception), so this script drives the real sessions and
writes what the APIs hand back. Generator conventions (not the package's):

* ``<scenario>.jsonl``: one JSONL per scenario through a sink object implementing both
  ``EventSink.emit`` (a line = ``AgentEvent.to_json()``) and ``UsageSink.record`` (a line =
  ``{"recorded_at", "model", "cost_usd", "usage": UsageSnapshot.to_dict()}``).
* ``*.usage.jsonl``: a UsageSink-only JSONL (same usage line shape).
* ``*.events.json``: a JSON array of ``AgentEvent.to_dict()`` (a RingBufferEventSink).
* ``*.summary.json``: ``session.summary()``; ``*.worker.json``: ``AgentWorker.to_dict()``;
  ``*.registry.json``: a list of ``AgentWorker.to_dict()``.
* ``waiting.jsonl`` / ``waiting.worker.json``: snapshots taken while a session waits in
  ``pause_for_input`` (the sink stops writing once the worker is dumped).
* ``tracker.json``: a standalone UsageTracker: ``{summary, per_model_cost, turns}``.
* ``pricing.json``: the ``load_pricing_from_file`` schema, loaded before any session.
* 0.4 only: ``resume.sqlite`` (SqliteSaver + SqliteEventSink + SqliteUsageSink, one file,
  a child process killed after turn 2 then resumed), ``audited.sqlite``
  (AuditLogSink + SqliteAuditBackend) and ``budget.audit.jsonl`` (``AuditLogSink.export()``);
  ``duplicates.*``: one session recorded four times at once (a JSONL sink, an SQLite store
  with a checkpoint thread, an audit-log export and its ``session.summary()``).

``--scenario NAME`` writes that scenario alone (without clearing the folder).

LLM calls are stubs (lambdas); nothing touches the network. See
``sample_runs/techrevati/README.md`` for what each file should show.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from techrevati.runtime import (
    AgentRegistry,
    CircuitBreaker,
    CircuitOpenError,
    QualityGate,
    QualityLevel,
    RecoveryContext,
    RingBufferEventSink,
    UsageSnapshot,
    UsageTracker,
)
from techrevati.runtime.orchestrator import AgentSession
from techrevati.runtime.usage_tracking import BudgetExceededError, load_pricing_from_file

VERSION = importlib.metadata.version("techrevati-runtime")
V04 = tuple(int(part) for part in VERSION.split(".")[:2]) >= (0, 4)
PROJECT = 42
THREAD = "resume-demo"

PRICING = {
    "_comment": "Baton sample prices, USD per 1M tokens (load_pricing_from_file schema).",
    "models": {
        "model-a": {
            "input_per_million": 3.0,
            "output_per_million": 15.0,
            "cache_write_per_million": 3.75,
            "cache_read_per_million": 0.3,
            "cache_write_5min_per_million": 3.75,
            "cache_write_1h_per_million": 6.0,
        },
        "model-b": {
            "input_per_million": 0.8,
            "output_per_million": 4.0,
            "cache_write_per_million": 1.0,
            "cache_read_per_million": 0.08,
            "cache_write_1h_per_million": 1.6,
        },
        "model-c": {"input_per_million": 15.0, "output_per_million": 75.0},
    },
}


class JsonlSink:
    """An EventSink and/or UsageSink appending one JSON object per line."""

    def __init__(self, path: Path, *, events: bool = True) -> None:
        self.path = path
        self.events = events
        self.frozen = False  # True: stop writing (the file stays as it was at that moment)

    def _write(self, line: str) -> None:
        if self.frozen:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def emit(self, event: Any) -> None:
        if self.events:
            self._write(event.to_json())

    def record(self, model: str, usage: UsageSnapshot, cost_usd: float) -> None:
        record = {
            "recorded_at": datetime.now(UTC).isoformat(),
            "model": model,
            "cost_usd": cost_usd,
            "usage": usage.to_dict(),
        }
        self._write(json.dumps(record, ensure_ascii=False))


class PartialRecovery(RecoveryContext):
    """The package's documented test hook: every recipe stops at its first step."""

    def _fail_at_step(self) -> int | None:
        return 0


def usage(inp: int, out: int, cw: int = 0, cr: int = 0, **extra: Any) -> UsageSnapshot:
    if not V04:
        extra = {}
    return UsageSnapshot(
        input_tokens=inp, output_tokens=out, cache_write_tokens=cw, cache_read_tokens=cr, **extra
    )


def answer(text: str) -> Any:
    return lambda: text


def raising(exc: Exception) -> Any:
    def call() -> Any:
        raise exc

    return call


def dump(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def try_turn(session: Any, fn: Any, **kwargs: Any) -> Any:
    """A caller that catches a failed turn and goes on (the runtime never retries)."""
    try:
        return session.run_turn(fn, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the sample records and continues
        return exc


def scenario_completed(out: Path) -> None:
    sink = JsonlSink(out / "completed.jsonl")
    agent = AgentSession(
        role="researcher",
        phase="discovery",
        project_id=PROJECT,
        event_sink=sink,
        usage_sink=sink,
        quality_gate=QualityGate(QualityLevel.STANDARD),
    )
    with agent.session() as s:
        s.run_turn(answer("plan"), model="model-a", usage=usage(1200, 300, cw=800))
        s.run_tool("web_search", lambda: ["result 1", "result 2"])
        s.run_turn(answer("notes"), model="model-a-20260514", usage=usage(400, 120, cr=800))
        s.run_turn(
            answer("report"),
            model="model-b",
            usage=usage(900, 200, cw=300, cr=500, tool_calls=1, cache_ttl="1h"),
        )
        s.evaluate_gate(QualityLevel.STRICT)


def scenario_failures(out: Path) -> None:
    sink = JsonlSink(out / "failures.jsonl")

    def agent(role: str, phase: str) -> AgentSession:
        return AgentSession(role=role, phase=phase, project_id=PROJECT, event_sink=sink, usage_sink=sink)

    # analyst: timeouts recovered twice, escalated the third time, then gives up.
    s = None
    try:
        with agent("analyst", "triage").session() as s:
            try_turn(s, raising(TimeoutError("model call timed out")), model="model-b")
            s.run_turn(answer("triage v1"), model="model-b", usage=usage(700, 150))
            try_turn(s, raising(TimeoutError("model call timed out")), model="model-b")
            last = try_turn(s, raising(TimeoutError("model call timed out")), model="model-b")
            raise last
    except TimeoutError:
        pass
    dump(out / "failures.analyst.summary.json", s.summary())

    # coder: a recovery that stops part-way (recovery failed), a failing tool, then completes.
    with agent("coder", "build").session() as s:
        s.recovery = PartialRecovery()
        try_turn(s, raising(RuntimeError("tool error: compiler failed")), model="model-a")
        s.run_turn(answer("patch"), model="model-a", usage=usage(1500, 400))
        with contextlib.suppress(RuntimeError):
            s.run_tool("compile", raising(RuntimeError("exit status 2")))
    dump(out / "failures.coder.summary.json", s.summary())

    # researcher: context overflow recovered, provider failures escalated, exits failed.
    try:
        with agent("researcher", "discovery").session() as s:
            try_turn(s, raising(ValueError("context length exceeded: 210000 tokens")), model="model-a")
            s.run_turn(answer("summary"), model="model-a", usage=usage(2000, 250, cr=1000))
            for _ in range(2):
                try_turn(s, raising(ConnectionError("connection reset by peer")), model="model-a")
            s.run_turn(raising(ConnectionError("connection reset by peer")), model="model-a")
    except ConnectionError:
        pass
    dump(out / "failures.researcher.summary.json", s.summary())


def scenario_circuit(out: Path) -> None:
    ring = RingBufferEventSink()
    breaker = CircuitBreaker(name="model-api", failure_threshold=2, recovery_timeout_seconds=60.0)
    agent = AgentSession(
        role="fetcher", phase="collect", project_id=PROJECT, event_sink=ring, circuit_breaker=breaker
    )
    s = None
    try:
        with agent.session() as s:
            for _ in range(2):
                try_turn(s, raising(ConnectionError("503 service unavailable")), model="model-b")
            s.run_turn(answer("never called"), model="model-b")
    except CircuitOpenError:
        pass
    dump(out / "circuit.events.json", [e.to_dict() for e in ring.events])
    dump(out / "circuit.worker.json", s.worker.to_dict())


def _budget_sessions(event_sink: Any, usage_sink: Any) -> None:
    enforced = AgentSession(
        role="writer",
        phase="draft",
        project_id=PROJECT,
        budget_usd=0.02,
        enforce_budget=True,
        event_sink=event_sink,
        usage_sink=usage_sink,
    )
    try:
        with enforced.session() as s:
            s.run_turn(answer("draft 1"), model="model-c", usage=usage(500, 100))
            s.run_turn(answer("draft 2"), model="model-c", usage=usage(500, 100))
    except BudgetExceededError:
        pass
    warned = AgentSession(
        role="editor",
        phase="review",
        project_id=PROJECT,
        budget_usd=0.001,
        event_sink=event_sink,
        usage_sink=usage_sink,
    )
    with warned.session() as s:
        s.run_turn(answer("edits"), model="model-b", usage=usage(1000, 200))


def scenario_budget(out: Path) -> None:
    if V04:
        from techrevati.runtime.compliance.audit_log import AuditLogSink, InMemoryAuditBackend

        audit = AuditLogSink(InMemoryAuditBackend())
        _budget_sessions(audit, audit)
        with (out / "budget.audit.jsonl").open("wb") as handle:
            for chunk in audit.export(fmt="jsonl"):
                handle.write(chunk)
    else:
        sink = JsonlSink(out / "budget.jsonl")
        _budget_sessions(sink, sink)


def scenario_handoff(out: Path) -> None:
    sink = JsonlSink(out / "handoff.jsonl")
    registry = AgentRegistry()
    planner = AgentSession(
        role="planner",
        phase="design",
        project_id=PROJECT,
        registry=registry,
        event_sink=sink,
        usage_sink=sink,
    )
    with planner.session() as s:
        s.run_turn(answer("plan"), model="model-a", usage=usage(800, 200))
        s.handoff_to("coder", reason="plan approved", context={"plan": ["write parser", "add tests"]})
    coder = AgentSession(
        role="coder", phase="design", project_id=PROJECT, registry=registry, event_sink=sink, usage_sink=sink
    )
    with coder.session() as s:
        s.run_turn(answer("code"), model="model-b", usage=usage(1600, 600))
    dump(out / "handoff.registry.json", [w.to_dict() for w in registry.get_by_project(PROJECT)])


def scenario_usage_only(out: Path) -> None:
    sink = JsonlSink(out / "usage_only.usage.jsonl", events=False)
    agent = AgentSession(role="writer", phase="draft", project_id=7, usage_sink=sink)
    with agent.session() as s:
        s.run_turn(answer("a"), model="model-b", usage=usage(1000, 250))
        s.run_turn(answer("b"), model="model-b", usage=usage(600, 150, cr=400))
        s.run_turn(answer("c"), model="local-llm", usage=usage(300, 80))


def scenario_tracker(out: Path) -> None:
    tracker = UsageTracker()
    tracker.record_turn("model-a", usage(2000, 500, cr=1000))
    tracker.record_turn("model-b", usage(1500, 300))
    dump(
        out / "tracker.json",
        {
            "summary": tracker.summary(),
            "per_model_cost": tracker.per_model_summary(),
            "turns": [{"model": model, "usage": snap.to_dict()} for model, snap in tracker.turns],
        },
    )


def scenario_waiting(out: Path) -> None:
    """A session paused for human input; files are snapshots taken while it waits."""
    sink = JsonlSink(out / "waiting.jsonl")
    agent = AgentSession(
        role="operator", phase="deploy", project_id=PROJECT, event_sink=sink, usage_sink=sink
    )

    async def turn() -> str:
        return "deploy plan"

    async def wait_for_human() -> None:
        async with agent.asession() as s:
            await s.arun_turn(turn, model="model-a", usage=usage(600, 90))
            pending = asyncio.create_task(s.pause_for_input("approve the production deploy?"))
            await asyncio.sleep(0)
            dump(out / "waiting.worker.json", s.worker.to_dict())
            sink.frozen = True
            s.provide_input("approved")
            await pending

    asyncio.run(wait_for_human())


def resume_child(db: Path, crash: bool) -> None:
    """One process of the crash-and-resume scenario (0.4). ``crash``: die after turn 2."""
    from techrevati.runtime import SqliteEventSink, SqliteSaver, SqliteUsageSink

    saver, events, usages = SqliteSaver(db), SqliteEventSink(db), SqliteUsageSink(db)
    agent = AgentSession(
        role="writer", phase="draft", project_id=PROJECT, saver=saver, event_sink=events, usage_sink=usages
    )
    with agent.session(thread_id=THREAD) as s:
        for turn in range(1, 5):

            def call(turn: int = turn) -> dict[str, Any]:
                s.run_tool("retrieve", lambda: [f"doc {turn}"])
                return {"turn": turn, "text": f"section {turn}"}

            s.run_turn(
                call,
                model="model-a",
                usage=usage(400 + 100 * turn, 80 + 20 * turn),
                idempotency_key=f"turn-{turn}",
            )
            if turn == 1 and crash:
                saver.put_step(THREAD, "outline", {"sections": 4})
            if turn == 2 and crash:
                os.kill(os.getpid(), signal.SIGKILL)
        saver.put_step(THREAD, "draft", {"sections_done": 4})
    for store in (saver, events, usages):
        store.close()


def scenario_resume(out: Path) -> None:
    db = out / "resume.sqlite"
    child = subprocess.run(
        [sys.executable, __file__, "--resume-child", str(db), "--crash"], check=False, timeout=60
    )
    if child.returncode != -signal.SIGKILL:
        raise SystemExit(f"crash child exited {child.returncode}, expected SIGKILL")
    subprocess.run([sys.executable, __file__, "--resume-child", str(db)], check=True, timeout=60)


def scenario_duplicates(out: Path) -> None:
    """One session held by four sources: what Baton must show as one run (0.4)."""
    from techrevati.runtime import SqliteEventSink, SqliteSaver, SqliteUsageSink
    from techrevati.runtime.compliance.audit_log import AuditLogSink, InMemoryAuditBackend
    from techrevati.runtime.sinks import FanoutEventSink, FanoutUsageSink

    db = out / "duplicates.sqlite"
    jsonl = JsonlSink(out / "duplicates.jsonl")
    saver, events, usages = SqliteSaver(db), SqliteEventSink(db), SqliteUsageSink(db)
    audit = AuditLogSink(InMemoryAuditBackend())
    agent = AgentSession(
        role="reviewer",
        phase="check",
        project_id=PROJECT,
        saver=saver,
        event_sink=FanoutEventSink([jsonl, events]),
        usage_sink=FanoutUsageSink([jsonl, usages]),
        audit_log=audit,
    )
    s = None
    try:
        with agent.session(thread_id="duplicates-demo") as s:
            for turn in (1, 2):  # two identical turns: two records, not one
                s.run_turn(
                    answer({"turn": turn}),
                    model="model-a",
                    usage=usage(600, 100, cr=400),
                    idempotency_key=f"review-{turn}",
                )
            s.run_tool("lint", lambda: ["ok"])
            s.run_turn(
                answer({"turn": 3}), model="model-b", usage=usage(300, 50, cw=200), idempotency_key="review-3"
            )
            s.run_turn(raising(ConnectionError("connection reset by peer")), model="model-b")
    except ConnectionError:
        pass
    dump(out / "duplicates.summary.json", s.summary())
    with (out / "duplicates.audit.jsonl").open("wb") as handle:
        for chunk in audit.export(fmt="jsonl"):
            handle.write(chunk)
    for store in (saver, events, usages):
        store.close()


def scenario_audited(out: Path) -> None:
    from techrevati.runtime import (
        GovernancePlane,
        MaxToolCallsLimit,
        PatternGuardrail,
        PermissionEnforcer,
        PermissionMode,
        PermissionPolicy,
        RolePermissionConfig,
    )
    from techrevati.runtime.compliance.audit_log import AuditLogSink, SqliteAuditBackend

    backend = SqliteAuditBackend(out / "audited.sqlite")
    audit = AuditLogSink(backend, signing_key=b"baton-sample-key")
    policy = PermissionPolicy(
        {
            "operator": RolePermissionConfig(
                "operator", PermissionMode.WORKSPACE_WRITE, denied_tools=["delete_volume"]
            )
        }
    )
    agent = AgentSession(
        role="operator",
        phase="remediate",
        project_id=PROJECT,
        audit_log=audit,
        permissions=PermissionEnforcer(policy),
        guardrails=[PatternGuardrail([r"rm\s+-rf"], name="no_rm_rf", stages=("post",))],
        governance=GovernancePlane(limits=(MaxToolCallsLimit(value=2, on_breach="alert"),)),
    )
    try:
        with agent.session() as s:
            s.run_turn(answer("diagnosis"), model="model-a", usage=usage(900, 150))
            s.run_tool("list_volumes", lambda: ["vol-1", "vol-2"])
            for tool, result in (("build_plan", "rm -rf /data"), ("delete_volume", "done")):
                with contextlib.suppress(Exception):  # blocked tool calls are part of the sample
                    s.run_tool(tool, answer(result))
            s.run_tool("notify", lambda: "sent")
            s.run_tool("build_plan", answer("rm -rf /data"))
    except Exception:  # noqa: BLE001 - GuardrailViolatedError ends the session
        pass
    if not audit.verify_chain().valid:
        raise SystemExit("audit chain does not verify")
    backend.close()


SCENARIOS = [
    scenario_completed,
    scenario_failures,
    scenario_circuit,
    scenario_budget,
    scenario_handoff,
    scenario_usage_only,
    scenario_tracker,
    scenario_waiting,
]
SCENARIOS_04 = [scenario_resume, scenario_audited, scenario_duplicates]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder to write v<version>/ into")
    parser.add_argument("--resume-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--crash", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help="write only this scenario (e.g. duplicates), keeping other files")
    args = parser.parse_args()
    if args.resume_child:
        load_pricing_from_file(args.resume_child.parent / "pricing.json")
        resume_child(args.resume_child, args.crash)
        return
    if args.out is None:
        parser.error("--out is required")
    out = args.out / f"v{VERSION}"
    out.mkdir(parents=True, exist_ok=True)
    scenarios = SCENARIOS + (SCENARIOS_04 if V04 else [])
    if args.scenario:
        scenarios = [f for f in scenarios if f.__name__ == f"scenario_{args.scenario}"]
        if not scenarios:
            parser.error(f"no scenario {args.scenario!r} for techrevati-runtime {VERSION}")
        for stale in out.glob(f"{args.scenario}.*"):
            stale.unlink()
    else:
        for stale in out.iterdir():
            if stale.is_file():
                stale.unlink()
    dump(out / "pricing.json", PRICING)
    load_pricing_from_file(out / "pricing.json")
    for scenario in scenarios:
        scenario(out)
    print(out)


if __name__ == "__main__":
    main()

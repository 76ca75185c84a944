"""Drive the real react-agent-harness package and keep what it leaves on disk.

Run with the python of a venv that has exactly one react-agent-harness version installed
(``python tests/framework_envs.py react-agent-harness 0.14.0`` prints one)::

    <venv python> sample_runs/generators/make_harness.py --out DIR [--snapshot-writes SNAPDIR]

Output goes to ``DIR/v<version>/``:

* ``checkpoints/<key>.json``  the package's own ``FileCheckpointStore`` files (library format)
* ``traces/<scenario>--<run_id>.jsonl``  BusEvent streams; 0.14 through ``harness.trace.record_trace``,
  0.0.2 through a recorder here with the same six fields (generator convention)
* ``budgets/<scenario>--<run_id>.json``  the budget snapshot the package returned for a completed
  run, written as-is (generator convention: the package returns it, it never writes it)
* ``sessions/sessions.sqlite``  0.14 ``SQLiteSessionStore`` of a ``PersistentAgent``
* ``versions/<n>/<key>.json``  every write of the ``crash_periodic`` checkpoint key, in order: the
  overwrite-in-place sequence a watcher sees (generator convention; the file keeps its key as name)

Every scenario runs in its own child process (``--child NAME``) with a scripted stub LLM (no
network). Kills are real: a tool SIGKILLs its own process, and a run waiting at the HITL
prompt is SIGKILLed by the parent once its checkpoint is on disk. ``--snapshot-writes`` wraps
the checkpoint store so every write of every key is also kept as ``SNAPDIR/<key>/<n>.json``.
The package's uuid4 ids are drawn from a generator seeded per version and scenario, so the
file names (run ids) are the same on every regeneration; timestamps and timings are not.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import importlib.metadata
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERSION = importlib.metadata.version("react-agent-harness")
NEW = not VERSION.startswith("0.0.")  # 0.13+ explicit run state (kind/phase/actions/budget)
KEEP_VERSIONS = {"crash_periodic"}  # scenarios whose overwrite-in-place sequence is kept
RATE_IN, RATE_OUT = 0.15e-6, 0.60e-6  # the adapter docstring's cost_fn example (USD per token)

# ── Stub LLM and tools ───────────────────────────────────────────────────────────────────

Script = Callable[[str, str, int], Any]  # (agent_id, task, step) -> response dict or raw text


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content)


def _task_and_step(messages: list[dict]) -> tuple[str, int]:
    """The current task is the last plain user message; the step counts replies after it."""
    task, step = "", 0
    for m in messages:
        text = _text(m.get("content", ""))
        if m.get("role") == "user" and not text.startswith(("Observation", "Human guidance")):
            task, step = text, 0
        elif m.get("role") == "assistant":
            step += 1
    return task, step


class StubLLM:
    """Scripted stand-in for ``OpenAILLM``: same call contract, usage dict and budget wiring,
    token counts len(text)//4, cost from the per-token rates above (a caller ``cost_fn``)."""

    model = "stub-gpt-4o-mini"
    input_token_budget = 6000

    def __init__(
        self,
        script: Script,
        *,
        plan: dict | None = None,
        replan: dict | None = None,
        complexity: str = "simple",
        route: str = "",
    ) -> None:
        self._script, self._plan, self._replan = script, plan, replan
        self._complexity, self._route = complexity, route
        self._budget: Any = None
        self.last_usage: dict | None = None

    def set_budget(self, guard: Any) -> None:
        self._budget = guard

    async def complete(
        self,
        system: str | None = None,
        messages: list[dict] | None = None,
        *,
        source: str | None = None,
        **_: Any,
    ) -> dict:
        messages = list(messages or [])
        prompt = (system or "") + "".join(_text(m.get("content", "")) for m in messages)
        reply = self._reply(system or "", messages, prompt)
        text = reply if isinstance(reply, str) else json.dumps(reply)
        usage = {"tokens_in": len(prompt) // 4, "tokens_out": max(1, len(text) // 4)}
        usage["total_tokens"] = usage["tokens_in"] + usage["tokens_out"]
        usage["model"] = self.model
        usage["cost_usd"] = usage["tokens_in"] * RATE_IN + usage["tokens_out"] * RATE_OUT
        if self._budget is not None:  # what OpenAILLM._record_usage does
            if hasattr(self._budget, "add_tokens"):
                self._budget.add_tokens(usage["tokens_in"], usage["tokens_out"], source=source)
                self._budget.add_cost(usage["cost_usd"], source=source)
            else:  # 0.0.2 guard: cost only
                self._budget.add_cost(usage["cost_usd"])
        self.last_usage = usage
        return {"text": text, "usage": usage}

    def _reply(self, system: str, messages: list[dict], prompt: str) -> Any:
        if "task complexity classifier" in prompt:
            return {"complexity": self._complexity, "rationale": "scripted"}
        if "routing agent" in prompt:
            return {"agent_id": self._route, "rationale": f"{self._route} owns this kind of goal"}
        if "replanning agent" in prompt:
            return self._replan
        if "planning agent" in prompt:
            return self._plan
        if "synthesis agent" in prompt:
            return {
                "answer": "Pinned driver 530.x; canary healthy.",
                "confidence": 0.8,
                "conflicts": [],
                "unknowns": ["Staging validation did not finish"],
            }
        if "memory reconciler" in prompt:
            return {
                "semantic_actions": [],
                "episodic_action": {"action": "noop", "memory_key": "", "rationale": "sample run"},
            }
        if "agent run just completed" in prompt:
            return {"semantic_facts": {}, "episodic_summary": "Sample run.", "metadata": {}}
        head = system or next((_text(m["content"]) for m in messages if m["role"] == "system"), "")
        match = re.search(r"You are the (\w+) agent", head)
        if not match:
            return {"summary": "Earlier steps looked up facts."}
        task, step = _task_and_step([m for m in messages if m.get("role") != "system"])
        return self._script(match.group(1), task, step)


class Tool:
    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name, self._fn = name, fn

    async def execute(self, **kwargs: Any) -> Any:
        return self._fn(**kwargs)


def _lookup(topic: str = "") -> dict:
    return {"topic": topic, "facts": [f"{topic}: fact A", f"{topic}: fact B"], "source": f"kb://{topic}"}


def _deploy(target: str = "") -> str:
    os.kill(os.getpid(), signal.SIGKILL)  # the process dies mid-tool, as a crash would
    return "unreachable"


TOOLS = {"lookup": _lookup, "deploy": _deploy, "shell": lambda command="": f"ran: {command}"}


def act(tool: str, thought: str, **args: Any) -> dict:
    return {"thought": thought, "action": tool, "args": args}


def finish(answer: str, confidence: float = 0.85) -> dict:
    return {"thought": "Enough evidence.", "action": "finish", "answer": answer, "confidence": confidence}


# ── Child side: one scenario per process ─────────────────────────────────────────────────


class SnapshotStore:
    """Passes through to the real store; copies the file after every write: SNAPDIR/<key>/<n>.json,
    or with ``by_version`` SNAPDIR/<n>/<key>.json (each version keeps the key as its file name)."""

    def __init__(self, inner: Any, ckpt_dir: Path, snapdir: Path, by_version: bool = False) -> None:
        self._inner, self._dir, self._snap, self._by_version = inner, ckpt_dir, snapdir, by_version

    async def write(self, key: str, data: dict) -> None:
        await self._inner.write(key, data)
        if self._by_version:
            n = len(list(self._snap.glob(f"*/{glob.escape(key)}.json"))) + 1
            target = self._snap / str(n) / f"{key}.json"
        else:
            n = len(list((self._snap / key).glob("*.json"))) + 1
            target = self._snap / key / f"{n}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._dir / f"{key}.json", target)

    async def read(self, key: str) -> dict | None:
        return await self._inner.read(key)

    async def delete(self, key: str) -> None:
        await self._inner.delete(key)


class Ctx:
    def __init__(self, scenario: str, vdir: Path, snapdir: Path | None, meta: Path) -> None:
        from harness.checkpoint import FileCheckpointStore

        self.scenario, self.vdir, self.meta = scenario, vdir, meta
        self.ckpt_dir = vdir / "checkpoints"
        store: Any = FileCheckpointStore(self.ckpt_dir)
        if scenario in KEEP_VERSIONS:  # every write of its keys as versions/<n>/<key>.json
            store = SnapshotStore(store, self.ckpt_dir, vdir / "versions", by_version=True)
        self.store = SnapshotStore(store, self.ckpt_dir, snapdir) if snapdir else store
        self.trace = vdir / "traces" / f"{scenario}.jsonl"

    def note(self, **values: Any) -> None:
        data = json.loads(self.meta.read_text()) if self.meta.exists() else {}
        data.update(values)
        self.meta.write_text(json.dumps(data))

    def write_budget(self, budget: dict) -> None:
        run_id = json.loads(self.meta.read_text())["run_id"]
        path = self.vdir / "budgets" / f"{self.scenario}--{run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(budget, indent=2))


def agent_config(agent_id: str, role: str, tools: list[str], **kw: Any) -> Any:
    from agents.base import AgentConfig

    return AgentConfig(
        agent_id=agent_id,
        role=role,
        allowed_tools=tools,
        system_prompt=f"You are the {agent_id} agent. {role}.",
        working_memory_max_tokens=4000,
        **kw,
    )


def runtime(ctx: Ctx, llm: StubLLM, configs: list[Any], **kw: Any) -> Any:
    from harness.runtime import AgentRegistry, AgentRuntime, ToolRegistry
    from memory.manager import MemoryManager
    from memory.stores import InMemoryEpisodicStore, InMemorySemanticStore

    agents, tools = AgentRegistry(), ToolRegistry()
    for config in configs:
        agents.register(config)
    for name, fn in TOOLS.items():
        tools.register(Tool(name, fn))
    for tool in kw.pop("extra_tools", []):
        tools.register(tool)
    memory = MemoryManager(InMemorySemanticStore(), InMemoryEpisodicStore(), llm)
    return AgentRuntime(
        agent_registry=agents, tool_registry=tools, memory=memory, llm=llm, checkpoint_store=ctx.store, **kw
    )


async def _record_002(stream: Any, path: Path) -> Any:
    """0.0.2 has no recorder: same line shape as 0.14 ``record_trace`` (generator convention)."""
    with path.open("w", encoding="utf-8") as fh:
        async for ev in stream:
            line = {
                "type": ev.type.value,
                "agent_id": ev.agent_id,
                "payload": ev.payload,
                "token": ev.token,
                "error": ev.error,
                "timestamp": ev.timestamp,
            }
            fh.write(json.dumps(line, ensure_ascii=False, default=repr) + "\n")
            fh.flush()
            yield ev


async def drive(ctx: Ctx, stream: Any) -> None:
    """Consume a BusEvent stream through the trace recorder; keep the budget the package returns."""
    ctx.trace.parent.mkdir(parents=True, exist_ok=True)
    if NEW:
        from harness.trace import record_trace

        recorded = record_trace(stream, ctx.trace)
    else:
        recorded = _record_002(stream, ctx.trace)
    async for ev in recorded:
        kind = ev.type.value
        if kind == "task_done" and not getattr(ev, "parent_agent_id", "") and "budget" in ev.payload:
            ctx.write_budget(ev.payload["budget"])  # 0.14 routed/single agent result
        elif kind == "done":
            budget = ev.payload.get("budget")  # 0.14; 0.0.2 has the runtime.run() shape only
            ctx.write_budget(
                budget
                or {"elapsed_seconds": ev.payload["elapsed_seconds"], "cost_usd": ev.payload["cost_usd"]}
            )


RESEARCHER = ("researcher", "Finds root causes with the knowledge base", ["lookup", "deploy"])
ANALYST = ("analyst", "Validates and rolls out fixes", ["lookup", "deploy"])
REPORTER = ("reporter", "Writes incident reports", ["lookup"])
OPERATOR = ("operator", "Runs shell commands on build machines", ["shell", "lookup"])


def _cfg(spec: tuple[str, str, list[str]], **kw: Any) -> Any:
    return agent_config(*spec, **kw)


async def crash_periodic(ctx: Ctx) -> None:
    def script(agent: str, task: str, step: int) -> Any:
        return [
            act("lookup", "Check the host first.", topic="worker-07"),
            act("lookup", "Check the driver.", topic="gpu-driver"),
            act("deploy", "Roll out the pinned driver.", target="worker-07"),
        ][min(step, 2)]

    llm = StubLLM(script, route="researcher")
    rt = runtime(ctx, llm, [_cfg(RESEARCHER, checkpoint_every=1), _cfg(ANALYST)])
    await drive(ctx, rt.dispatch_stream("Investigate the memory leak on worker-07 and roll out the fix"))


async def hitl_waiting(ctx: Ctx) -> None:
    def script(agent: str, task: str, step: int) -> Any:
        return [
            act("lookup", "What does a clean rebuild need?", topic="build"),
            act("shell", "Clean the build dir before rebuilding.", command="rm -rf build/"),
        ][min(step, 1)]

    llm = StubLLM(script, route="operator")
    rt = runtime(ctx, llm, [_cfg(OPERATOR, hitl_tools=["shell"]), _cfg(REPORTER)])
    await drive(ctx, rt.dispatch_stream("Prepare a clean rebuild of the build tree"))


async def fail_max_steps(ctx: Ctx) -> None:
    llm = StubLLM(lambda a, t, s: act("lookup", "Still not sure.", topic=f"metric-{s}"), route="analyst")
    rt = runtime(ctx, llm, [_cfg(ANALYST, checkpoint_every=1, max_steps=3), _cfg(REPORTER)])
    await drive(ctx, rt.dispatch_stream("Explain the latency regression in checkout"))


async def fail_unparseable(ctx: Ctx) -> None:
    def script(agent: str, task: str, step: int) -> Any:
        if step == 0:
            return act("lookup", "Look at the incident first.", topic="incident-4411")
        return "I think the next step is to look at the logs, then decide."

    llm = StubLLM(script, route="reporter")
    rt = runtime(ctx, llm, [_cfg(REPORTER, checkpoint_every=1), _cfg(ANALYST)])
    await drive(ctx, rt.dispatch_stream("Summarise incident 4411 for the weekly report"))


async def fail_budget(ctx: Ctx) -> None:
    from harness.runtime import GuardrailConfig

    llm = StubLLM(lambda a, t, s: act("lookup", "Gather more data.", topic=f"region-{s}"), route="analyst")
    rt = runtime(
        ctx,
        llm,
        [_cfg(ANALYST, checkpoint_every=1, max_steps=12), _cfg(REPORTER)],
        guardrail_config=GuardrailConfig(max_total_cost_usd=0.0003),
    )
    await drive(ctx, rt.dispatch_stream("Estimate storage growth for every region"))


async def routed_complete(ctx: Ctx) -> None:
    def script(agent: str, task: str, step: int) -> Any:
        if step == 0:
            return act("lookup", "Find the on-call rota.", topic="on-call")
        return finish("Alice is on call this week.", 0.9)

    llm = StubLLM(script, route="researcher")
    rt = runtime(ctx, llm, [_cfg(RESEARCHER, checkpoint_every=1), _cfg(ANALYST)])
    await drive(ctx, rt.dispatch_stream("Who is on call for the GPU fleet this week?"))


PLAN = {
    "rationale": "Research first, then validate on staging.",
    "tasks": [
        {
            "id": "t1",
            "agent_id": "researcher",
            "instruction": "Find the root cause of the worker-07 leak",
            "depends_on": [],
            "on_failure": "replan",
        },
        {
            "id": "t2",
            "agent_id": "analyst",
            "instruction": "Validate the fix on staging",
            "depends_on": ["t1"],
            "on_failure": "replan",
        },
    ],
}
REPLAN = {
    "rationale": "Staging is unusable; validate on one canary host.",
    "tasks": [
        {
            "id": "t2b",
            "agent_id": "analyst",
            "instruction": "Validate the fix on the canary host only",
            "depends_on": [],
            "on_failure": "skip",
        }
    ],
}


def _orch_script(agent: str, task: str, step: int) -> Any:
    if agent == "researcher":
        return [
            act("lookup", "Read the leak report.", topic="worker-07"),
            finish("Driver 535.x leaks memory; pin 530.x.", 0.81),
        ][min(step, 1)]
    if agent == "reporter":
        return "Report drafted (no JSON here)."
    if task.startswith("Validate the fix on the canary"):
        return [act("lookup", "Check the canary.", topic="canary"), finish("Canary healthy on 530.x.", 0.75)][
            min(step, 1)
        ]
    if task.startswith("Roll out"):
        return [
            act("lookup", "Check the rollout plan.", topic="rollout"),
            act("deploy", "Deploy the pinned driver.", target="fleet"),
        ][min(step, 1)]
    return act("lookup", "Staging still unreachable.", topic=f"staging-{step}")


async def orchestrated_replan(ctx: Ctx) -> None:
    llm = StubLLM(_orch_script, plan=PLAN, replan=REPLAN, complexity="complex")
    rt = runtime(
        ctx,
        llm,
        [
            _cfg(RESEARCHER, checkpoint_every=1),
            _cfg(ANALYST, checkpoint_every=1, max_steps=2),
            _cfg(REPORTER),
        ],
    )
    await drive(ctx, rt.dispatch_stream("Fix the worker-07 memory leak"))


async def orchestrated_killed(ctx: Ctx) -> None:
    plan = {
        "rationale": "Research and report in parallel, then roll out.",
        "tasks": [
            {
                "id": "t1",
                "agent_id": "researcher",
                "instruction": "Find the root cause of the worker-07 leak",
                "depends_on": [],
                "on_failure": "replan",
            },
            {
                "id": "t3",
                "agent_id": "reporter",
                "instruction": "Draft the incident report",
                "depends_on": [],
                "on_failure": "skip",
            },
            {
                "id": "t2",
                "agent_id": "analyst",
                "instruction": "Roll out the pinned driver to the fleet",
                "depends_on": ["t1"],
                "on_failure": "abort",
            },
        ],
    }
    llm = StubLLM(_orch_script, plan=plan, complexity="complex")
    rt = runtime(ctx, llm, [_cfg(RESEARCHER), _cfg(REPORTER), _cfg(ANALYST, checkpoint_every=1)])
    await drive(ctx, rt.dispatch_stream("Roll out the worker-07 driver fix"))


async def subagent_killed(ctx: Ctx) -> None:
    from agents.base import BaseAgent
    from harness.runtime import BudgetGuard, GuardrailConfig, Tracer
    from memory.manager import MemoryManager
    from memory.stores import InMemoryEpisodicStore, InMemorySemanticStore
    from tools.builtin.subagent import SubAgentTool

    def script(agent: str, task: str, step: int) -> Any:
        if agent == "lead":
            return act("delegate_researcher", "Delegate the digging.", task="Find why worker-07 leaks memory")
        return [
            act("lookup", "Read the leak report.", topic="worker-07"),
            act("deploy", "Hot-patch the driver.", target="worker-07"),
        ][min(step, 1)]

    llm = StubLLM(script)
    memory = MemoryManager(InMemorySemanticStore(), InMemoryEpisodicStore(), llm)
    sub = BaseAgent(
        config=_cfg(RESEARCHER, checkpoint_every=1),
        tools={n: Tool(n, TOOLS[n]) for n in ("lookup", "deploy")},
        memory=memory,
        tracer=Tracer(),
        guard=BudgetGuard(GuardrailConfig()),
        llm=llm,
        checkpoint_store=ctx.store,
    )
    lead = agent_config(
        "lead", "Coordinates investigations by delegating", ["delegate_researcher"], checkpoint_every=1
    )
    rt = runtime(ctx, llm, [lead], extra_tools=[SubAgentTool(sub)])
    await drive(ctx, rt.dispatch_stream("Coordinate the worker-07 leak investigation"))


async def session_store(ctx: Ctx) -> None:
    from agents.base import BaseAgent
    from harness.persistent import PersistentAgent, SQLiteSessionStore
    from harness.runtime import BudgetGuard, GuardrailConfig, Tracer
    from memory.manager import MemoryManager
    from memory.stores import InMemoryEpisodicStore, InMemorySemanticStore

    def script(agent: str, task: str, step: int) -> Any:
        if "broken" in task:
            return "Sorry, I can only answer in prose today."
        if step == 0:
            return act("lookup", "Check the rota.", topic="on-call")
        return finish("Alice is on call; Bob is the backup.", 0.9)

    llm = StubLLM(script)
    memory = MemoryManager(InMemorySemanticStore(), InMemoryEpisodicStore(), llm)
    coordinator = BaseAgent(
        config=agent_config("assistant", "Answers ops questions", ["lookup"]),
        tools={"lookup": Tool("lookup", _lookup)},
        memory=memory,
        tracer=Tracer(),
        guard=BudgetGuard(GuardrailConfig()),
        llm=llm,
    )
    path = ctx.vdir / "sessions" / "sessions.sqlite"
    chat = PersistentAgent(
        coordinator=coordinator,
        session_store=SQLiteSessionStore(path),
        memory=memory,
        guard_factory=lambda: BudgetGuard(GuardrailConfig()),
    )
    for session_id, message in (
        ("ops-chat", "Who is on call?"),
        ("ops-chat", "Answer this broken question about the pager"),
        ("release-chat", "Who is on call for the release?"),
    ):
        async for _ in chat.chat(message, session_id=session_id):
            pass
    await asyncio.sleep(0.2)  # let fire-and-forget memory writes settle


SCENARIOS: dict[str, tuple[Callable[[Ctx], Any], str, bool]] = {
    # name: (function, how it ends: exit | killed | hitl, needs 0.13+)
    "crash_periodic": (crash_periodic, "killed", False),
    "hitl_waiting": (hitl_waiting, "hitl", False),
    "fail_max_steps": (fail_max_steps, "exit", False),
    "fail_unparseable": (fail_unparseable, "exit", False),
    "fail_budget": (fail_budget, "exit", False),
    "routed_complete": (routed_complete, "exit", False),
    "orchestrated_replan": (orchestrated_replan, "exit", False),
    "orchestrated_killed": (orchestrated_killed, "killed", False),
    "subagent_killed": (subagent_killed, "killed", True),
    "session_store": (session_store, "exit", True),
}


def seed_ids(scenario: str) -> None:
    """Make the package's uuid4 ids (run ids, approval ids, invocation ids) repeatable: one
    seeded generator per version and scenario, so regenerated samples keep their file names
    (generator convention; the ids stay valid UUIDv4 strings)."""
    rng = random.Random(f"react-agent-harness {VERSION} {scenario}")
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)


def run_child(scenario: str, vdir: Path, snapdir: Path | None, meta: Path) -> None:
    seed_ids(scenario)  # before the package is imported
    import harness.runtime as hr

    ctx = Ctx(scenario, vdir, snapdir, meta)
    original = hr.Tracer.start_run

    def start_run(self: Any, run_id: str, goal: str) -> None:  # remember the top-level run id
        if not json.loads(meta.read_text() if meta.exists() else "{}").get("run_id"):
            ctx.note(run_id=run_id)
        original(self, run_id, goal)

    hr.Tracer.start_run = start_run
    asyncio.run(SCENARIOS[scenario][0](ctx))


# ── Parent side ──────────────────────────────────────────────────────────────────────────


def _waiting_checkpoint(ckpt_dir: Path, before: set[Path]) -> bool:
    for path in set(ckpt_dir.glob("*.json")) - before:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written
        if doc.get("pending") or doc.get("phase") == "approve":
            return True
    return False


def run_scenario(name: str, vdir: Path, snapdir: Path | None, home: Path) -> None:
    _, ending, _ = SCENARIOS[name]
    meta = home / f"{name}.meta.json"
    cmd = [sys.executable, __file__, "--child", name, "--out", str(vdir), "--meta", str(meta)]
    if snapdir:
        cmd += ["--snapshot-writes", str(snapdir)]
    env = {**os.environ, "HOME": str(home), "CHECKPOINT_DIR": str(vdir / "checkpoints")}
    log = (home / f"{name}.log").open("w")
    before = set((vdir / "checkpoints").glob("*.json"))
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    if ending == "hitl":
        while not _waiting_checkpoint(vdir / "checkpoints", before):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"{name}: never reached the approval prompt (see {home}/{name}.log)")
            time.sleep(0.05)
        time.sleep(0.3)  # the prompt is up; nobody answers
        proc.send_signal(signal.SIGKILL)
    rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    log.close()
    expected = 0 if ending == "exit" else -signal.SIGKILL
    if rc != expected:
        raise SystemExit(
            f"{name}: exit status {rc}, expected {expected}:\n{(home / f'{name}.log').read_text()}"
        )
    run_id = json.loads(meta.read_text()).get("run_id") if meta.exists() else None
    trace = vdir / "traces" / f"{name}.jsonl"
    if trace.exists():
        trace.rename(trace.with_name(f"{name}--{run_id}.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--snapshot-writes", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--meta", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", default=None, help="run only these scenarios")
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.out, args.snapshot_writes, args.meta)
        return
    vdir = args.out / f"v{VERSION}"
    if vdir.exists():
        shutil.rmtree(vdir)
    (vdir / "checkpoints").mkdir(parents=True)
    snapdir = args.snapshot_writes.resolve() if args.snapshot_writes else None
    with tempfile.TemporaryDirectory(prefix="make_harness_") as home:
        for name, (_, _, needs_new) in SCENARIOS.items():
            if (needs_new and not NEW) or (args.only and name not in args.only):
                continue
            run_scenario(name, vdir.resolve(), snapdir, Path(home))
    print(f"react-agent-harness {VERSION}: wrote {vdir}")


if __name__ == "__main__":
    main()

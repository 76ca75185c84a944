"""Write sample loopengt runs with the real package and an offline, scripted fake LLM.

Run inside a venv that has ``loopengt`` installed::

    <venv python> sample_runs/generators/make_loopengt.py --out sample_runs/loopengt

Everything goes to ``<out>/v<installed version>/``: the loop specs (``<loop>.yaml``) and,
next to them, the ``.loopengt/`` tree the package writes (``runs/<run_id>.json`` through
the CLI's own ``_save_trace``, ``runs/<run_id>/checkpoints/*.json`` through
``CheckpointManager``, ``runs/<run_id>.trace.jsonl`` through ``JSONLTraceStore`` and
``traces.db`` through ``SQLiteTraceStore``).

The stock executor emits no events, never checkpoints and never records tokens, so the
application part lives here (``TracedExecutor``): it swaps the LLM call for a scripted fake
(no network), emits trace events, saves a checkpoint after every step and on failure, and
fills ``token_usage``. Two runs go through the real ``loopengt run`` CLI unchanged.

Token counts are deterministic (see ``tokens_for``); ids and timestamps are new on every run.
Scenarios are identified by ``loop_name`` (see sample_runs/loopengt/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import structlog
import yaml
from loopengt.cli.commands.run import _save_trace
from loopengt.core.models.loop_spec import LoopSpec, StepSpec
from loopengt.core.models.state import CheckpointData, LoopState, RunStatus
from loopengt.core.runtime.checkpoint import CheckpointManager
from loopengt.core.runtime.executor import ExecutionError, LoopExecutor
from loopengt.core.tracing.events import AgentEvent, LoopEvent, StepEvent, ToolEvent, TraceEvent
from loopengt.core.tracing.store import JSONLTraceStore, SQLiteTraceStore

LOOPENGT_VERSION = version("loopengt")


def tokens_for(step: str, attempt: int) -> tuple[int, int]:
    """Deterministic (prompt, completion) tokens of one successful fake-LLM call."""
    return 100 + 10 * len(step) + 5 * (attempt - 1), 40 + 2 * len(step)


@dataclass
class FakeLLM:
    """Scripted stand-in for a model: ``failures[step]`` lists, per attempt, an error or
    ``None``; attempts past the list succeed. ``tool_failures`` makes a tool call fail."""

    failures: dict[str, list[str | None]] = field(default_factory=dict)
    tool_failures: dict[str, str] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def error_for(self, step: str) -> str | None:
        n = self.calls.get(step, 0)
        self.calls[step] = n + 1
        script = self.failures.get(step, [])
        return script[n] if n < len(script) else None


class TracedExecutor(LoopExecutor):
    """The application around the stock executor: fake LLM, events, checkpoints, tokens."""

    def __init__(
        self,
        spec: LoopSpec,
        *,
        llm: FakeLLM,
        stores: list[Any],
        cm: CheckpointManager,
        pause_after: str | None = None,
        pause_reason: str = "",
        run_id: str | None = None,
    ) -> None:
        super().__init__(spec)
        if run_id:
            self._state.run_id = run_id  # keep the run id across a resume (restore_state does not)
        self.llm, self.stores, self.cm = llm, stores, cm
        self.pause_after, self.pause_reason = pause_after, pause_reason
        self.paused = False
        self.loop_event: str | None = None
        self.usage: dict[str, tuple[int, int, str]] = {}
        self.handoffs_seen: set[str] = set()
        self.tries: dict[str, int] = {}  # attempts in this execution (state.attempts spans resumes)

    @property
    def state(self) -> LoopState:
        return self._state

    async def emit(self, cls: type[TraceEvent], event_type: str, **fields: Any) -> str:
        fields.setdefault("parent_event_id", self.loop_event)
        event = cls(event_type=event_type, run_id=self._state.run_id, turn=self._state.turn, **fields)
        for store in self.stores:
            await store.write(event)
        return event.event_id

    def model_of(self, agent_name: str) -> str:
        agent = self._spec.get_agent(agent_name)
        return agent.config.model if agent else ""

    async def start(self, data: dict[str, Any]) -> None:
        event = LoopEvent(
            event_type="loop.start",
            run_id=self._state.run_id,
            turn=self._state.turn,
            data={"goal": self._spec.goal, "steps": self._spec.step_names(), **data},
            loop_name=self._spec.name,
            pattern=str(self._spec.pattern),
        )
        for store in self.stores:
            await store.write(event)
        self.loop_event = event.event_id

    async def run(self) -> LoopState:
        await self.start({})
        return await self.finish(await self.execute())

    async def resume_run(self, cp: CheckpointData, source_run_id: str) -> LoopState:
        self.cm.restore_state(cp, self._state)
        await self.start({"resumed_from": {"run_id": source_run_id, "checkpoint_id": cp.checkpoint_id}})
        await self.emit(
            TraceEvent,
            "checkpoint.load",
            data={
                "checkpoint_id": cp.checkpoint_id,
                "source_run_id": source_run_id,
                "current_step_index": cp.current_step_index,
            },
        )
        return await self.finish(await self.resume(cp.checkpoint_id))

    async def finish(self, state: LoopState) -> LoopState:
        elapsed = time.time() - state.started_at.timestamp()
        if self.paused:
            # The library never pauses; the application marks it (and clears completed_at).
            state.status = RunStatus.PAUSED
            state.completed_at = None
            await self.emit(TraceEvent, "custom", data={"action": "pause", "reason": self.pause_reason})
        elif state.status == RunStatus.FAILED:
            await self.emit(
                LoopEvent,
                "loop.error",
                data={"error": state.error},
                duration_seconds=elapsed,
                loop_name=self._spec.name,
                pattern=str(self._spec.pattern),
            )
        else:
            await self.emit(
                LoopEvent,
                "loop.complete",
                data={"turns": state.turn},
                duration_seconds=elapsed,
                loop_name=self._spec.name,
                pattern=str(self._spec.pattern),
            )
        return state

    def _should_stop(self) -> bool:
        return self.paused or super()._should_stop()

    async def checkpoint(self, reason: str) -> None:
        cp_id = await self.cm.save(self._state)
        await self.emit(
            TraceEvent,
            "checkpoint.save",
            data={
                "checkpoint_id": cp_id,
                "reason": reason,
                "current_step_index": self._state.current_step_index,
            },
        )

    async def _execute_step(self, step: StepSpec) -> Any:
        handoff = self._state.context.get("_handoff")
        if (
            isinstance(handoff, dict)
            and handoff.get("to_agent") == step.agent
            and step.name not in self.handoffs_seen
        ):
            self.handoffs_seen.add(step.name)
            await self.emit(TraceEvent, "handoff", step_name=step.name, agent_name=step.agent, data=handoff)
        try:
            output = await super()._execute_step(step)
        except ExecutionError as exc:
            if self._spec.get_agent(step.agent) is None:
                await self.emit(
                    StepEvent, "step.error", step_name=step.name, agent_name=step.agent, error=str(exc)
                )
            await self.checkpoint("step_failed")
            raise
        step_state = self._state.step_states[step.name]
        if output is None:  # failed without fail_fast
            await self.checkpoint("step_failed")
            return None
        prompt_tokens, completion_tokens, model = self.usage.pop(step.name)
        total = prompt_tokens + completion_tokens
        step_state.result = step_state.result.model_copy(
            update={
                "token_usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": total,
                },
                "metadata": {"model": model},
            }
        )
        agent_state = self._state.agent_states.get(step.agent)
        if agent_state:
            agent_state.total_tokens += total
        await self.emit(
            StepEvent,
            "step.complete",
            step_name=step.name,
            agent_name=step.agent,
            attempt=step_state.attempts,
            output=output,
            duration_seconds=round(step_state.result.duration_seconds, 4),
        )
        await self.checkpoint("step_complete")
        if step.name == self.pause_after:
            self.paused = True
        return output

    async def _invoke_agent(self, step: StepSpec, prompt: str) -> Any:
        attempt = self._state.step_states[step.name].attempts
        model = self.model_of(step.agent)
        common = {"step_name": step.name, "agent_name": step.agent}
        self.tries[step.name] = tries = self.tries.get(step.name, 0) + 1
        if tries > 1:
            await self.emit(
                StepEvent,
                "step.retry",
                attempt=attempt,
                **common,
                data={"delay_seconds": self._spec.policy.retry.compute_delay(tries - 2)},
            )
        step_event = await self.emit(StepEvent, "step.start", attempt=attempt, **common)
        invoke = await self.emit(
            AgentEvent,
            "agent.invoke",
            parent_event_id=step_event,
            model=model,
            data={"prompt_chars": len(prompt)},
            **common,
        )
        error = None
        for tool in step.tools:
            call = await self.emit(
                ToolEvent,
                "tool.call",
                parent_event_id=invoke,
                tool_name=tool,
                tool_type="function",
                input_data={"step": step.name},
                **common,
            )
            if tool in self.llm.tool_failures:
                error = f"Tool '{tool}' failed: {self.llm.tool_failures[tool]}"
                await self.emit(
                    ToolEvent,
                    "tool.error",
                    parent_event_id=call,
                    tool_name=tool,
                    tool_type="function",
                    error=self.llm.tool_failures[tool],
                    duration_seconds=0.01,
                    **common,
                )
            else:
                await self.emit(
                    ToolEvent,
                    "tool.result",
                    parent_event_id=call,
                    tool_name=tool,
                    tool_type="function",
                    output_data={"hits": 3, "top": f"result for {tool}"},
                    duration_seconds=0.01,
                    **common,
                )
        started = time.monotonic()
        await asyncio.sleep(0.003)  # a model takes time; also keeps created_at strictly increasing
        error = error or self.llm.error_for(step.name)
        duration = round(time.monotonic() - started, 4)
        if error:
            await self.emit(
                AgentEvent,
                "agent.error",
                parent_event_id=invoke,
                model=model,
                data={"error": error},
                duration_seconds=duration,
                **common,
            )
            await self.emit(
                StepEvent,
                "step.error",
                parent_event_id=step_event,
                attempt=attempt,
                error=error,
                duration_seconds=duration,
                **common,
            )
            raise RuntimeError(error)
        prompt_tokens, completion_tokens = tokens_for(step.name, attempt)
        text = f"{step.agent} finished '{step.name}' ({self._spec.goal[:40]})"
        await self.emit(
            AgentEvent,
            "agent.response",
            parent_event_id=invoke,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model=model,
            data={"response_chars": len(text)},
            duration_seconds=duration,
            **common,
        )
        self.usage[step.name] = (prompt_tokens, completion_tokens, model)
        return {
            "agent": step.agent,
            "step": step.name,
            "prompt_length": len(prompt),
            "response": text,
            "status": "ok",
        }


# --------------------------------------------------------------------------- specs


def agent(name: str, model: str, provider: str = "openai", caps: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"name": name, "capabilities": list(caps), "config": {"provider": provider, "model": model}}


def step(name: str, agent_name: str, tools: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "agent": agent_name,
        "prompt_template": f"{name}: {{topic}}",
        "tools": list(tools),
        **extra,
    }


def spec_dict(
    name: str,
    goal: str,
    agents: list[dict],
    steps: list[dict],
    *,
    pattern: str = "sequential",
    retries: int = 2,
    fail_fast: bool = True,
    topic: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1.0",
        "goal": goal,
        "pattern": pattern,
        "agents": agents,
        "steps": steps,
        "context": {"topic": topic or goal},
        "policy": {
            "max_turns": 20,
            "fail_fast": fail_fast,
            "retry": {"max_retries": retries, "initial_delay_seconds": 0.01, "backoff": "constant"},
        },
    }


SPECS: dict[str, dict[str, Any]] = {
    "research-brief": spec_dict(
        "research-brief",
        "Write a research brief on vector databases for the platform team",
        [
            agent("researcher", "gpt-4o-mini", caps=("research", "web_search")),
            agent("writer", "gpt-4o", caps=("summarization",)),
        ],
        [step("gather", "researcher", ("web_search",)), step("outline", "writer"), step("draft", "writer")],
    ),
    "nightly-etl": spec_dict(
        "nightly-etl",
        "Load yesterday's orders into the analytics warehouse",
        [agent("loader", "gpt-4o-mini", caps=("tool_use",)), agent("checker", "gpt-4o-mini")],
        [
            step("extract", "loader"),
            step("transform", "loader"),
            step("load", "loader", ("warehouse_insert",)),
            step("verify", "checker"),
        ],
    ),
    "flaky-etl": spec_dict(
        "flaky-etl",
        "Sync CRM contacts into the marketing database",
        [agent("syncer", "gpt-4o-mini", caps=("tool_use",))],
        [step("fetch", "syncer"), step("transform", "syncer"), step("load", "syncer")],
        retries=1,
    ),
    "long-migration": spec_dict(
        "long-migration",
        "Migrate the auth service from sessions to JWT",
        [
            agent("architect", "gpt-4o", caps=("planning",)),
            agent("engineer", "gpt-4o-mini", caps=("code_generation",)),
        ],
        [
            step("design", "architect"),
            step("implement", "engineer"),
            step("migrate_users", "engineer"),
            step("verify", "architect"),
        ],
    ),
    "release-approval": spec_dict(
        "release-approval",
        "Prepare release 2.4 and publish after human sign-off",
        [agent("release-bot", "gpt-4o-mini", caps=("summarization",))],
        [
            step("changelog", "release-bot"),
            step("build_notes", "release-bot"),
            step("publish", "release-bot"),
        ],
    ),
    "weekly-digest": spec_dict(
        "weekly-digest",
        "Send the weekly engineering metrics digest",
        [agent("analyst", "llama3.1:8b", provider="ollama", caps=("summarization",))],
        [
            step("fetch_metrics", "analyst", ("metrics_api",)),
            step("summarise", "analyst"),
            step("send", "analyst"),
        ],
        fail_fast=False,
        retries=1,
    ),
    "doc-translation": spec_dict(
        "doc-translation",
        "Translate the onboarding guide into German and localise examples",
        [
            agent("translator", "gpt-4o", caps=("custom",)),
            agent("localiser", "gpt-4o-mini", caps=("custom",)),
            agent("reviewer", "gpt-4o", caps=("code_review",)),
        ],
        [step("translate", "translator"), step("localise", "localiser"), step("review", "reviewer")],
        pattern="handoff",
    ),
    "competitor-scan": spec_dict(
        "competitor-scan",
        "Scan three competitor changelogs in parallel and compare features",
        [agent("scanner", "gpt-4o-mini", caps=("web_search",)), agent("analyst", "gpt-4o")],
        [
            step("scan_alpha", "scanner"),
            step("scan_beta", "scanner"),
            step("scan_gamma", "scanner"),
            step(
                "compare",
                "analyst",
                dependencies=[{"step_name": n} for n in ("scan_alpha", "scan_beta", "scan_gamma")],
            ),
        ],
        pattern="parallel_fan_out",
        retries=1,
    ),
    "cli-quickstart": spec_dict(
        "cli-quickstart",
        "Plan and execute a hello-world task with the stock executor",
        [agent("planner", "gpt-4o-mini"), agent("executor", "gpt-4o-mini")],
        [step("plan", "planner"), step("execute", "executor")],
    ),
    "cli-missing-agent": spec_dict(
        "cli-missing-agent",
        "Plan, execute and report (the execute step names an undeclared agent)",
        [agent("planner", "gpt-4o-mini"), agent("reporter", "gpt-4o-mini")],
        [step("plan", "planner"), step("execute", "ghost"), step("report", "reporter")],
    ),
}

RATE_LIMIT = (
    "LLM request failed: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o-mini "
    "on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.', "
    "'type': 'requests', 'code': 'rate_limit_exceeded'}}"
)
CONTEXT = (
    "LLM request failed: Error code: 400 - This model's maximum context length is 128000 tokens. "
    "However, your messages resulted in 141210 tokens. Please reduce the length of the messages. "
    "(context_length_exceeded)"
)


# --------------------------------------------------------------------------- scenarios


class Env:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / ".loopengt" / "runs"
        self.cm = CheckpointManager(runs_dir=self.runs)
        self.jsonl = JSONLTraceStore(directory=self.runs)
        self.sqlite = SQLiteTraceStore(db_path=root / ".loopengt" / "traces.db")
        self.made: dict[str, list[str]] = {}

    def spec(self, name: str) -> tuple[LoopSpec, Path]:
        path = self.root / f"{name}.yaml"
        if not path.exists():
            path.write_text(yaml.safe_dump(SPECS[name], sort_keys=False), encoding="utf-8")
        return LoopSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))), path

    def save(self, state: LoopState, spec_path: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            _save_trace(state, spec_path)  # the CLI's own writer of runs/<run_id>.json
        self.made.setdefault(state.loop_name, []).append(f"{state.run_id}:{state.status}")

    async def traced(
        self, name: str, llm: FakeLLM | None = None, sqlite: bool = False, **kw: Any
    ) -> TracedExecutor:
        spec, path = self.spec(name)
        executor = TracedExecutor(
            spec, llm=llm or FakeLLM(), stores=[self.sqlite if sqlite else self.jsonl], cm=self.cm, **kw
        )
        self.save(await executor.run(), path)
        return executor

    def cli(self, name: str) -> None:
        """The real ``loopengt run`` (stock executor, stub LLM: openai is not installed, and
        no API key is passed, so it cannot reach a network either way)."""
        _, path = self.spec(name)
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "HF_TOKEN")}
        before = set(self.runs.glob("*.json"))
        proc = subprocess.run(
            [sys.executable, "-m", "loopengt.cli.main", "run", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        if len(set(self.runs.glob("*.json")) - before) != 1:
            raise SystemExit(f"loopengt run {path} failed:\n{proc.stdout}\n{proc.stderr}")
        self.made.setdefault(name, []).append("cli")


async def generate(env: Env) -> None:
    await env.traced("research-brief")
    await env.traced(
        "nightly-etl",
        FakeLLM(
            tool_failures={"warehouse_insert": "permission denied: warehouse role lacks INSERT on orders"}
        ),
    )

    # Same run id across a resume: the failed execution's checkpoints stay next to the new ones.
    first = await env.traced("flaky-etl", FakeLLM(failures={"transform": [RATE_LIMIT, RATE_LIMIT]}))
    spec, path = env.spec("flaky-etl")
    cp = await env.cm.load(first.state.run_id, first.state.checkpoints[-1])
    again = TracedExecutor(spec, llm=FakeLLM(), stores=[env.jsonl], cm=env.cm, run_id=first.state.run_id)
    env.save(await again.resume_run(cp, first.state.run_id), path)

    # Paused, then resumed under a new run id (the library's default after restore_state).
    paused = await env.traced(
        "long-migration",
        pause_after="implement",
        pause_reason="operator paused: waiting for the change-approval window",
    )
    spec, path = env.spec("long-migration")
    cp = await env.cm.load(paused.state.run_id, paused.state.checkpoints[-1])
    resumed = TracedExecutor(spec, llm=FakeLLM(), stores=[env.jsonl], cm=env.cm)
    env.save(await resumed.resume_run(cp, paused.state.run_id), path)

    await env.traced(
        "release-approval",
        pause_after="build_notes",
        pause_reason="awaiting human approval from the release manager",
    )
    await env.traced(
        "weekly-digest",
        FakeLLM(
            tool_failures={
                "metrics_api": "TimeoutError: timed out after 30s reading from metrics-api.internal:443"
            }
        ),
    )
    await env.traced("doc-translation", sqlite=True)
    await env.traced("competitor-scan", FakeLLM(failures={"scan_beta": [CONTEXT, CONTEXT]}), sqlite=True)
    await env.sqlite.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder that receives v<version>/")
    args = parser.parse_args(argv)
    root = (args.out / f"v{LOOPENGT_VERSION}").resolve()
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty: remove it first (ids are new on every run)")
    root.mkdir(parents=True, exist_ok=True)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    env = Env(root)
    asyncio.run(generate(env))
    env.cli("cli-quickstart")
    env.cli("cli-missing-agent")
    files = [p for p in root.rglob("*") if p.is_file()]
    print(
        json.dumps(
            {
                "loopengt_version": LOOPENGT_VERSION,
                "out": str(root),
                "files": len(files),
                "bytes": sum(p.stat().st_size for p in files),
                "runs": env.made,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""react-agent-harness orchestrator checkpoints ``<run_id>.json`` (0.0.2 ``completed`` map,
0.14 ``kind: "orchestrator"`` with per-task state).

One orchestration is one run: its agents' checkpoints carry the same run id and land under
it. The file is deleted right before ``done``, so a file on disk means the orchestration
was interrupted, or aborted (0.14 ``aborted``). Plan tasks become completed and remaining
steps; task states, errors, ``aborted`` and ``replan_count`` are kept as failure signals.
"""

from __future__ import annotations

from typing import Any

from core.records import CheckpointRecord, ParsedFile, RunRecord
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.harness import common as hc
from ingest.spec import FormatSpec

LEGACY_KEYS = {"run_id", "goal", "plan", "completed"}
TASK_PROGRESS = {"pending": 0, "running": 1, "failed": 2, "done": 3, "skipped": 3}
INTERRUPTED = (
    "orchestrator checkpoint left on disk: the orchestration stopped before its synthesis "
    "(process crashed or killed); tasks: {tasks}"
)


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    if not isinstance(doc, dict) or "ac_version" in doc:
        return False
    if doc.get("kind") == "orchestrator":
        return "run_id" in doc
    return "kind" not in doc and doc.keys() >= LEGACY_KEYS and isinstance(doc.get("completed"), dict)


def _plan_tasks(doc: dict) -> list[dict[str, Any]]:
    plan = doc.get("plan")
    tasks = plan.get("tasks") if isinstance(plan, dict) else None
    return (
        [t for t in tasks if isinstance(t, dict) and isinstance(t.get("id"), str)]
        if isinstance(tasks, list)
        else []
    )


def _rationale(doc: dict) -> str | None:
    plan = doc.get("plan")
    return (
        plan.get("rationale") if isinstance(plan, dict) and isinstance(plan.get("rationale"), str) else None
    )


def _task_states(doc: dict) -> dict[str, dict[str, Any]]:
    """task id -> {status, attempt, result, agent_ckp_id}; 0.0.2 states are derived from
    ``completed`` (a task missing from it has not finished: pending)."""
    if isinstance(doc.get("tasks"), dict):
        return {tid: state for tid, state in doc["tasks"].items() if isinstance(state, dict)}
    completed = doc.get("completed") or {}
    states = {}
    for task in _plan_tasks(doc):
        result = completed.get(task["id"])
        status = "pending" if not isinstance(result, dict) else "done" if result.get("success") else "failed"
        states[task["id"]] = {"status": status, "result": result}
    for tid, result in completed.items():  # results of tasks a replan removed from the plan
        if tid not in states and isinstance(result, dict):
            states[tid] = {"status": "done" if result.get("success") else "failed", "result": result}
    return states


def _describe(tid: str, task: dict[str, Any] | None, state: dict[str, Any]) -> str:
    task = task or {}
    result = state.get("result") if isinstance(state.get("result"), dict) else {}
    agent = task.get("agent_id") or result.get("agent_id") or "?"
    instruction = hc.first_line(task.get("instruction") or state.get("instruction")) or ""
    return f"{tid} ({agent}): {instruction}".rstrip(": ")


def parse(content: Content) -> ParsedFile:
    doc = content.json
    parsed = ParsedFile(format="harness.orchestrator")
    if not isinstance(doc.get("run_id"), str) or not doc["run_id"].strip():
        raise ParseError(content.path, "orchestrator checkpoint field 'run_id' must be a non-empty string")
    run_id, new = doc["run_id"], doc.get("kind") == "orchestrator"
    key = hc.file_key(content.path)
    if key != run_id:
        parsed.warnings.append(f"{content.path}: file name is not the orchestration's key {run_id}.json")
        key = run_id
    if not _plan_tasks(doc):
        parsed.warnings.append(f"{content.path}: the plan lists no tasks")
    plan = {t["id"]: t for t in _plan_tasks(doc)}
    states = _task_states(doc)
    statuses = {tid: hc.text(state.get("status")) for tid, state in states.items()}
    errors = {
        tid: (state.get("result") or {}).get("error")
        for tid, state in states.items()
        if isinstance(state.get("result"), dict) and (state.get("result") or {}).get("error")
    }
    aborted = doc.get("aborted") is True
    replans = hc.as_int(doc.get("replan_count")) or 0
    order = list(plan) + [tid for tid in states if tid not in plan]
    done = [_describe(t, plan.get(t), states.get(t, {})) for t in order if statuses.get(t) == "done"]
    remaining = [
        _describe(t, plan.get(t), states.get(t, {}))
        for t in order
        if statuses.get(t, "pending") in ("pending", "running")
    ]
    listing = ", ".join(f"{tid} {status}" for tid, status in statuses.items())
    reason = None
    if aborted:
        trigger = next((tid for tid, s in statuses.items() if s == "failed" and tid in errors), None)
        reason = errors.get(trigger) if trigger else "aborted (a task with on_failure=abort failed)"
    basis = (
        f"aborted by a failed task; tasks: {listing}"
        if aborted
        else INTERRUPTED.format(tasks=listing or "none")
    )
    progress = sum(
        TASK_PROGRESS.get(hc.text(s), 0) + 4 * (hc.as_int(states[t].get("attempt")) or 0)
        for t, s in statuses.items()
    )
    agent_keys = {tid: state["agent_ckp_id"] for tid, state in states.items() if state.get("agent_ckp_id")}
    attributes = {
        "checkpoint_key": key,
        "harness_format": "0.14" if new else "0.0.2",
        "kind": "orchestrator",
        "task_statuses": statuses,
        "replan_count": replans,
        "aborted": aborted,
        "agent_checkpoint_keys": agent_keys,
        hc.STATUS_BASIS: basis,
    }
    parsed.checkpoints.append(
        CheckpointRecord(
            framework=hc.FRAMEWORK,
            run_native_id=run_id,
            native_id=hc.version_id(
                key, f"r{replans:03d}.{1 if aborted else 0}{min(progress, 9999):04d}", doc
            ),
            document=doc,
            agent_id="orchestrator",
            status="failed" if aborted else "running",
            completed_steps=done,
            remaining_steps=remaining,
            failure_reason=reason,
            summary=hc.first_line(doc.get("goal")),
            attributes=attributes,
            inferred=[] if aborted else ["status"],
            chain_key=key,
            versioned=True,
        )
    )
    agents = list(
        dict.fromkeys(t.get("agent_id") for t in plan.values() if isinstance(t.get("agent_id"), str))
    )
    parsed.runs.append(
        RunRecord(
            framework=hc.FRAMEWORK,
            native_id=run_id,
            priority=hc.PRIORITY_ORCHESTRATOR,
            status="failed",
            task=doc.get("goal") if isinstance(doc.get("goal"), str) else None,
            agents=agents,
            failure_reason=reason,
            failure_signals={
                "task_statuses": statuses,
                "task_errors": errors,
                "aborted": aborted,
                "replan_count": replans,
                **({} if aborted else {"checkpoint_left_on_disk": True}),
            },
            attributes={hc.STATUS_BASIS: basis, "orchestrated": True, "plan_rationale": _rationale(doc)},
            inferred=[] if aborted else ["status"],
        )
    )
    return parsed


FORMAT = FormatSpec(
    name="harness.orchestrator",
    framework=hc.FRAMEWORK,
    description="react-agent-harness orchestrator checkpoints <run_id>.json (0.0.2 and 0.14)",
    detect=detect,
    parse=parse,
)

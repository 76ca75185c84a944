"""react-agent-harness agent checkpoints: 0.0.2 plain dicts and 0.14 ``kind: "agent"``.

The harness overwrites ``<key>.json`` in place and deletes it when the agent finishes, so
every distinct content is kept as a version of the key, and a file on disk means the agent
did not finish: it waits at a human-approval prompt (0.14 phase ``approve`` with a pending
action, 0.0.2 ``pending``), or it crashed, was killed, or failed. The harness persists no
max-steps, unparseable or budget failure, so such a file looks exactly like a crash: that
status is inferred and says so. Orchestrated task checkpoints (``<run>:<task>:<agent>``)
leave the run's status to the orchestrator checkpoint and the trace.
"""

from __future__ import annotations

from typing import Any

from core.records import CheckpointRecord, ParsedFile, RunRecord
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.harness import common as hc
from ingest.parsers.harness.steps import actions, decided_steps, pending_approvals, step_text
from ingest.spec import FormatSpec

LEGACY_KEYS = {"run_id", "agent_id", "task", "step", "memory"}
PHASES = {"think": 0, "approve": 1, "act": 2, "observe": 3, "done": 4, "failed": 5}
ACTION_PROGRESS = {"pending": 0, "approved": 1, "rejected": 2, "executed": 2}
LEFT_ON_DISK = (
    "checkpoint left on disk at step {step} (phase {phase}) with no error recorded: the process "
    "crashed or was killed, or the run failed (the harness does not persist max-steps, unparseable "
    "or budget failures); it deletes the file when the agent finishes"
)


def _is_new(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "agent" and {"run_id", "agent_id"} <= doc.keys()


def _is_legacy(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and "kind" not in doc
        and "ac_version" not in doc
        and doc.keys() >= LEGACY_KEYS
        and isinstance(doc.get("memory"), dict)
    )


def detect(content: Content) -> bool:
    return content.kind == "json" and (_is_new(content.json) or _is_legacy(content.json))


def _key(content: Content, run_id: str, agent_id: str, warnings: list[str]) -> tuple[str, list[str], bool]:
    """The key from the file name, checked against the document; rebuilt when they disagree."""
    key = hc.file_key(content.path)
    parts = key.split(":")
    if len(parts) in (2, 3) and parts[0] == run_id and parts[-1] == agent_id:
        return key, parts, False
    warnings.append(
        f"{content.path}: file name is not this checkpoint's key (<run_id>:[<task_id>:]<agent_id>); "
        f"using {run_id}:{agent_id}, the key the harness would use"
    )
    return f"{run_id}:{agent_id}", [run_id, agent_id], True


def _progress(doc: dict, step: int | None) -> str:
    phase = PHASES.get(hc.text(doc.get("phase")), 1 if "pending" in doc else 0)
    messages = doc["memory"].get("messages") if isinstance(doc.get("memory"), dict) else None
    moved = len(messages) if isinstance(messages, list) else 0
    for action in actions(doc):
        moved += ACTION_PROGRESS.get(hc.text(action.get("status")), 0) + (
            hc.as_int(action.get("attempts")) or 0
        )
    return f"{step or 0:06d}.{phase}{min(moved, 999):03d}"


def _status(doc: dict, pending: list[dict[str, Any]]) -> tuple[str, str | None, bool]:
    """(status, failure reason, inferred)."""
    error, error_kind = doc.get("error"), doc.get("error_kind")
    if pending:
        return "waiting", None, False
    if doc.get("phase") == "failed" or error or error_kind:
        return "failed", error if isinstance(error, str) and error else error_kind, False
    if doc.get("phase") == "done" or doc.get("result") is not None:
        return "completed", None, False
    return "failed", None, True


def parse(content: Content) -> ParsedFile:
    doc = content.json
    parsed = ParsedFile(format="harness.agent_checkpoint")
    for field in ("run_id", "agent_id"):
        if not isinstance(doc.get(field), str) or not doc[field].strip():
            raise ParseError(content.path, f"agent checkpoint field '{field}' must be a non-empty string")
    run_id, agent_id, new = doc["run_id"], doc["agent_id"], doc.get("kind") == "agent"
    if new and hc.as_int(doc.get("version")) not in (None, 1):
        parsed.warnings.append(f"{content.path}: checkpoint version {doc.get('version')!r} is newer than 1")
    key, parts, key_inferred = _key(content, run_id, agent_id, parsed.warnings)
    step = hc.as_int(doc.get("step"))
    pending = pending_approvals(doc)
    status, reason, inferred = _status(doc, pending)
    phase = doc.get("phase") if new else None
    basis = (
        f"waiting for approval of {pending[0]['tool']}"
        if pending
        else LEFT_ON_DISK.format(step=step, phase=phase or "n/a")
        if inferred
        else f"phase {phase}"
    )
    done = decided_steps(doc) + [
        t for a in actions(doc) if a.get("status") == "executed" and (t := step_text(a))
    ]
    remaining = [
        f"{t} ({a.get('status')})"
        for a in actions(doc)
        if a.get("status") in ("pending", "approved") and (t := step_text(a))
    ]
    if not new and pending:
        remaining = [f"{pending[0]['tool']} {hc.short_json(pending[0]['args'] or {})} (pending)"]
    attributes: dict[str, Any] = {
        "checkpoint_key": key,
        "harness_format": "0.14" if new else "0.0.2",
        "phase": phase,
        "task_id": parts[1] if len(parts) == 3 else None,
        hc.STATUS_BASIS: basis,
    }
    if pending:
        attributes["pending"] = pending[0]
        if len(pending) > 1:
            attributes["pending_actions"] = pending
    if isinstance(doc.get("budget"), dict):
        attributes["budget"] = doc["budget"]
    delegations = [a for a in actions(doc) if isinstance(a.get("invocation_id"), str) and a["invocation_id"]]
    if delegations:
        attributes["sub_runs"] = [a["invocation_id"] for a in delegations]
    marks = ["status"] if inferred else []
    parsed.checkpoints.append(
        CheckpointRecord(
            framework=hc.FRAMEWORK,
            run_native_id=run_id,
            native_id=hc.version_id(key, _progress(doc, step), doc),
            document=doc,
            agent_id=agent_id,
            status="running" if inferred else status,
            step=step,
            completed_steps=done,
            remaining_steps=remaining,
            failure_reason=reason,
            summary=(
                f"waiting for approval: {remaining[0]}"
                if pending and remaining
                else hc.first_line(doc.get("task"))
            ),
            attributes=attributes,
            inferred=marks + (["checkpoint_key"] if key_inferred else []),
            chain_key=key,
            versioned=True,
        )
    )
    parsed.runs.append(_run(doc, key, parts, status, reason, inferred, pending, basis))
    for action in delegations:
        parsed.runs.append(
            RunRecord(
                framework=hc.FRAMEWORK,
                native_id=action["invocation_id"],
                priority=hc.PRIORITY_AGENT,
                attributes={
                    "parent_run_id": run_id,
                    "delegated_by": agent_id,
                    "delegation_tool": action.get("tool"),
                },
            )
        )
    return parsed


def _run(
    doc: dict,
    key: str,
    parts: list[str],
    status: str,
    reason: str | None,
    inferred: bool,
    pending: list[dict[str, Any]],
    basis: str,
) -> RunRecord:
    run = RunRecord(
        framework=hc.FRAMEWORK,
        native_id=doc["run_id"],
        agents=[doc["agent_id"]],
        priority=hc.PRIORITY_WAITING if pending else hc.PRIORITY_AGENT,
    )
    if len(parts) == 3 and not pending:
        return run  # an orchestrated task: the orchestrator and the trace speak for the run
    signals = {name: doc.get(name) for name in ("phase", "error", "error_kind", "step") if name in doc}
    if "pending" in doc:
        signals["pending"] = doc["pending"]
    if pending and "actions" in doc:
        signals["actions"] = [a for a in actions(doc) if a.get("status") == "pending"]
    if inferred:
        signals["checkpoint_left_on_disk"] = True
    run.status, run.failure_reason, run.failure_signals = status, reason, signals
    run.attributes = {hc.STATUS_BASIS: basis, "checkpoint_key": key}
    run.inferred = ["status"] if inferred else []
    if len(parts) == 2:
        run.task = doc.get("task") if isinstance(doc.get("task"), str) else None
        for name, value in hc.budget_usage(doc.get("budget")).items():
            setattr(run, name, value)
    return run


FORMAT = FormatSpec(
    name="harness.agent_checkpoint",
    framework=hc.FRAMEWORK,
    description="react-agent-harness agent checkpoints <run_id>:[<task_id>:]<agent_id>.json (0.0.2 and 0.14)",
    detect=detect,
    parse=parse,
)

"""loopengt 0.1.0 checkpoints: ``.loopengt/runs/<run_id>/checkpoints/<id>.json`` (``CheckpointData``).

A checkpoint names no parent and holds no run status or error. The store chains the
checkpoints of a run by ``created_at`` (``chain_key`` = run id); ids are random, so never
sort by them. The status is inferred from the step states: ``completed`` when every step
is, ``failed`` when the step that changed last failed, else ``running``. Recognised by its
keys (``checkpoint_id``, ``run_id``, ``current_step_index``; no ACF ``ac_version``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.records import CheckpointRecord, ParsedFile
from core.timeutil import parse_timestamp
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.loopengt.common import FRAMEWORK, step_error, step_state_items, step_summary, text
from ingest.spec import FormatSpec

KEYS = frozenset({"checkpoint_id", "run_id", "current_step_index"})
DONE = ("completed", "skipped")


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    return isinstance(doc, dict) and doc.keys() >= KEYS and "ac_version" not in doc and "loop_name" not in doc


def _last_changed(steps: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]] | None:
    """The step whose state changed most recently (by completed_at, then started_at)."""

    def when(item: tuple[str, dict[str, Any]]) -> datetime | None:
        state = item[1]
        return parse_timestamp(state.get("completed_at")) or parse_timestamp(state.get("started_at"))

    dated = [(stamp, index) for index, item in enumerate(steps) if (stamp := when(item))]
    return steps[max(dated)[1]] if dated else None


def _status(steps: list[tuple[str, dict[str, Any]]]) -> tuple[str, str | None]:
    if steps and all(state.get("status") in DONE for _, state in steps):
        return "completed", None
    last = _last_changed(steps)
    if last and last[1].get("status") == "failed":
        return "failed", step_error(last[1])
    return "running", None


def _agent(history: Any) -> str | None:
    """The agent of the newest history entry (the stock step output names it)."""
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        result = history[-1].get("result")
        return text(result.get("agent")) if isinstance(result, dict) else None
    return None


def parse(content: Content) -> ParsedFile:
    doc = content.json
    parsed = ParsedFile(format="loopengt.checkpoint")
    for key in ("checkpoint_id", "run_id"):
        if text(doc.get(key)) is None:
            raise ParseError(content.path, f"loopengt checkpoint: field '{key}' must be a non-empty string")
    if "step_states" in doc and not isinstance(doc["step_states"], list | dict):
        raise ParseError(
            content.path, "loopengt checkpoint: field 'step_states' must be an array of step states"
        )
    created = parse_timestamp(doc.get("created_at"))
    if created is None:
        parsed.warnings.append(
            f"{content.path}: checkpoint {doc['checkpoint_id']} has no readable created_at; "
            "it is ordered first in its run"
        )
    steps = step_state_items(doc.get("step_states"))
    status, reason = _status(steps)
    agent = _agent(doc.get("history"))
    step = doc.get("current_step_index")
    parsed.checkpoints.append(
        CheckpointRecord(
            framework=FRAMEWORK,
            run_native_id=doc["run_id"],
            native_id=doc["checkpoint_id"],
            document=doc,
            agent_id=agent,
            status=status,
            step=step if isinstance(step, int) and not isinstance(step, bool) else None,
            created_at=created,
            completed_steps=[name for name, state in steps if state.get("status") == "completed"],
            remaining_steps=[name for name, state in steps if state.get("status") not in DONE],
            failure_reason=reason,
            attributes={"step_states": {name: step_summary(state) for name, state in steps}},
            inferred=["status"] + (["agent_id"] if agent else []),
            chain_key=doc["run_id"],
        )
    )
    return parsed


FORMAT = FormatSpec(
    name="loopengt.checkpoint",
    framework=FRAMEWORK,
    description="loopengt 0.1.0 checkpoints (.loopengt/runs/<run_id>/checkpoints/<id>.json)",
    detect=detect,
    parse=parse,
)

"""loopengt 0.1.0 run-state files: ``.loopengt/runs/<run_id>.json`` (a dump of ``LoopState``).

The file is the final state of the last execution under its ``run_id``, so it outranks
what a trace says about the same run. A run resumed under the same ``run_id`` overwrites
it: the earlier attempt shows only in the trace and the checkpoints, and in history
entries older than ``started_at`` (counted in ``attributes["history_before_start"]``).
Recognised by its keys (``run_id``, ``loop_name``, ``status``, ``step_states``).
"""

from __future__ import annotations

from typing import Any

from core.records import ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.loopengt.common import (
    FRAMEWORK,
    STATUS_MAP,
    step_error,
    step_state_items,
    step_summary,
    text,
)
from ingest.spec import FormatSpec

RUN_FILE_PRIORITY = 10
KEYS = frozenset({"run_id", "loop_name", "status", "step_states"})
TOKEN_KEYS = (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens"))


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    return isinstance(doc, dict) and doc.keys() >= KEYS and "checkpoint_id" not in doc


def _tokens(steps: list[tuple[str, dict[str, Any]]]) -> tuple[int | None, int | None]:
    """Sums of the steps' ``token_usage``; None when no step reports any (never 0 for unknown)."""
    totals: list[int | None] = [None, None]
    for _, state in steps:
        result = state.get("result")
        usage = result.get("token_usage") if isinstance(result, dict) else None
        if not isinstance(usage, dict):
            continue
        for index, names in enumerate(TOKEN_KEYS):
            value = next((usage[name] for name in names if name in usage), None)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                totals[index] = (totals[index] or 0) + value
    return totals[0], totals[1]


def _agents(agent_states: Any) -> list[str]:
    """Agents that were invoked at least once (declared but idle agents are left out)."""
    if isinstance(agent_states, dict):
        states = list(agent_states.values())
    else:
        states = agent_states if isinstance(agent_states, list) else []
    names = []
    for state in states:
        if isinstance(state, dict) and text(state.get("agent_name")) and state.get("invocations") != 0:
            names.append(state["agent_name"])
    return names


def _models(steps: list[tuple[str, dict[str, Any]]]) -> list[str]:
    models: list[str] = []
    for _, state in steps:
        result = state.get("result")
        meta = result.get("metadata") if isinstance(result, dict) else None
        model = text(meta.get("model")) if isinstance(meta, dict) else None
        if model and model not in models:
            models.append(model)
    return models


def parse(content: Content) -> ParsedFile:
    doc = content.json
    parsed = ParsedFile(format="loopengt.run")
    run_id = text(doc.get("run_id"))
    if run_id is None:
        raise ParseError(content.path, "loopengt run file: field 'run_id' must be a non-empty string")
    if not isinstance(doc["step_states"], dict | list):
        raise ParseError(
            content.path, "loopengt run file: field 'step_states' must be an object of step states"
        )
    native_status = doc.get("status")
    status = STATUS_MAP.get(native_status) if isinstance(native_status, str) else None
    if status is None:
        parsed.warnings.append(f"{content.path}: unknown run status {native_status!r}")
    steps = step_state_items(doc["step_states"])
    failed_steps = [
        {
            "step_name": name,
            "status": state.get("status"),
            "attempts": state.get("attempts"),
            "error": step_error(state),
        }
        for name, state in steps
        if state.get("status") == "failed"
    ]
    error = text(doc.get("error"))
    if error is None and status == "failed" and failed_steps:
        error = failed_steps[-1]["error"]  # the original text of the step that failed
    started = parse_timestamp(doc.get("started_at"))
    ended = parse_timestamp(doc.get("completed_at"))
    history = doc.get("history") if isinstance(doc.get("history"), list) else []
    stamps = [parse_timestamp(entry.get("timestamp")) for entry in history if isinstance(entry, dict)]
    input_tokens, output_tokens = _tokens(steps)
    attributes: dict[str, Any] = {
        key: doc[key] for key in ("loop_name", "current_step_index", "turn", "checkpoints") if key in doc
    }
    attributes["step_states"] = {name: step_summary(state) for name, state in steps}
    attributes["models"] = _models(steps)
    earlier = sum(1 for stamp in stamps if stamp and started and stamp < started)
    if earlier:
        attributes["history_before_start"] = earlier
    if status == "completed":
        attributes["partial"] = any(state.get("status") not in ("completed", "skipped") for _, state in steps)
    signals: dict[str, Any] = {"status": native_status, "error": doc.get("error")}
    if failed_steps:
        signals["failed_steps"] = failed_steps
    parsed.runs.append(
        RunRecord(
            framework=FRAMEWORK,
            native_id=run_id,
            priority=RUN_FILE_PRIORITY,
            as_of=ended or max([s for s in stamps if s] + ([started] if started else []), default=None),
            status=status or "unknown",
            task=text(doc.get("loop_name")),
            agents=_agents(doc.get("agent_states")),
            started_at=started,
            ended_at=ended,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            failure_reason=error,
            failure_signals=signals,
            attributes=attributes,
        )
    )
    return parsed


FORMAT = FormatSpec(
    name="loopengt.run",
    framework=FRAMEWORK,
    description="loopengt 0.1.0 run-state files (.loopengt/runs/<run_id>.json)",
    detect=detect,
    parse=parse,
)

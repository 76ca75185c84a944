"""techrevati-runtime: checkpoint rows of ``SqliteSaver`` (``state`` = turn result and usage,
``metadata``) or worker dumps. Phases come from the normalized checkpoint fields the parser
filled; the turn result is the partial output."""

from __future__ import annotations

import json
from typing import Any

from core.resume.mappers.base import Mapped, as_object, text_or_none
from core.resume.mappers.generic import map_generic
from core.resume.source import ResumeSource


def _state(doc: dict[str, Any]) -> dict[str, Any]:
    for key in ("state", "state_json"):
        value = doc.get(key)
        if isinstance(value, str):  # the row's column as stored
            try:
                value = json.loads(value)
            except ValueError:
                continue
        if isinstance(value, dict):
            return value
    return {}


def map_techrevati(source: ResumeSource) -> Mapped:
    mapped = map_generic(source)
    doc = source.document if isinstance(source.document, dict) else {}
    state = _state(doc)
    if "result" in state:
        mapped.partial_output = as_object(state.get("result"), "result")
    worker = doc.get("worker") if isinstance(doc.get("worker"), dict) else doc
    for key in ("role", "phase", "project_id", "thread_id", "worker_id"):
        if worker.get(key) is not None:
            mapped.context[key] = worker[key]
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    if metadata.get("idempotency_key"):
        mapped.context["idempotency_key"] = metadata["idempotency_key"]
    if not mapped.agent_id and isinstance(worker.get("role"), str):
        mapped.agent_id = worker["role"]
    # The checkpoint's own summary describes one turn; the task is the run's, or its session.
    role, phase, thread = worker.get("role"), worker.get("phase"), doc.get("thread_id")
    session = f"{role} agent, phase {phase}" if role and phase else (f"thread {thread}" if thread else None)
    mapped.task_summary = (
        text_or_none(source.run.get("task"))
        or (f"techrevati-runtime session: {session}" if session else None)
        or mapped.task_summary
    )
    if thread:
        mapped.context["how_to_resume"] = (
            f"techrevati-runtime 0.4: open AgentSession(...).session(thread_id={thread!r}) with a SqliteSaver on "
            "the same database and call run_turn with the same idempotency keys: finished turns are replayed "
            "from their checkpoints, the rest run"
        )
    return mapped

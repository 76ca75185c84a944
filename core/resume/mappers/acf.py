"""agent-checkpoint-framework: the source already speaks the spec; carry every field over."""

from __future__ import annotations

import re

from core.resume.mappers.base import (
    Mapped,
    UnmappableCheckpoint,
    as_object,
    confidence_or_none,
    step_text,
    text_or_none,
)
from core.resume.source import ResumeSource

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)


def map_acf(source: ResumeSource) -> Mapped:
    doc = source.document
    if not isinstance(doc, dict):
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: the stored ACF document is not an object"
        )
    task_id = doc.get("task_id") if isinstance(doc.get("task_id"), str) else None
    strategy = doc.get("retry_strategy")
    hint = doc.get("executor_hint")
    return Mapped(
        task_summary=text_or_none(doc.get("task_summary")) or text_or_none(source.run.get("task")),
        completed_steps=[step_text(s) for s in doc.get("completed_steps") or [] if s is not None]
        if isinstance(doc.get("completed_steps"), list)
        else [],
        remaining_steps=[step_text(s) for s in doc.get("remaining_steps") or [] if s is not None]
        if isinstance(doc.get("remaining_steps"), list)
        else [],
        partial_output=as_object(doc.get("partial_output"), "output"),
        context=as_object(doc.get("context_snapshot"), "snapshot"),
        failure_reason=text_or_none(doc.get("failure_reason")),
        confidence=confidence_or_none(doc.get("confidence")),
        agent_id=text_or_none(doc.get("agent_id")),
        task_id=task_id if task_id and UUID4.match(task_id) else None,
        retry_strategy=strategy if strategy in ("resume", "restart", "escalate") else None,
        executor_hint=hint
        if isinstance(hint, str) and (hint in ("same", "any") or hint.startswith("capability:"))
        else None,
    )

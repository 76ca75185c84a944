"""Any framework, from the normalized checkpoint fields every parser fills."""

from __future__ import annotations

from core.resume.mappers.base import Mapped, step_text, text_or_none
from core.resume.source import ResumeSource


def map_generic(source: ResumeSource) -> Mapped:
    cp, run = source.checkpoint, source.run
    return Mapped(
        task_summary=text_or_none(cp.get("summary")) or text_or_none(run.get("task")),
        completed_steps=[step_text(s) for s in cp.get("completed_steps") or []],
        remaining_steps=[step_text(s) for s in cp.get("remaining_steps") or []],
        partial_output={},
        context={"source_document": source.document} if source.document is not None else {},
        failure_reason=text_or_none(cp.get("failure_reason")) or text_or_none(run.get("failure_reason")),
        agent_id=text_or_none(cp.get("agent_id")),
    )

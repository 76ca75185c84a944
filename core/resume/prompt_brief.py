"""The handoff brief (``--format prompt``): a Markdown document any coding agent can be
started with, for a checkpoint of any framework.

It is built from what every framework provides: the run (task, status, failure class and
text, attributes), the checkpoint through its framework's mapper (done and remaining steps,
partial output; the normalized fields when the mapper refuses it) and the run's events
(``brief_facts``). The facts are gathered into one plain object, redacted and trimmed as the
ACF export is (``redact``, ``trim``: oldest tool calls go first), then rendered
(``brief_render``). The budget counts the Markdown's bytes, and is at most 127 KiB: the start
commands pass the brief as one command-line argument, which Linux caps at 128 KiB.
"""

from __future__ import annotations

import copy
import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.resume.acf_document import baton_version
from core.resume.brief_facts import Facts, gather
from core.resume.brief_render import AGENTS, render
from core.resume.mappers.base import Mapped, UnmappableCheckpoint, step_text, text_or_none
from core.resume.mapping import map_source
from core.resume.native import literal
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource
from core.resume.strategy import default_strategy, failure_class
from core.resume.trim import TrimReport, size_of, trim_document
from core.timeutil import utcnow

ARGUMENT_LIMIT = 127 * 1024  # one argv string on Linux: MAX_ARG_STRLEN, 128 KiB with its NUL
TRIMMED_LISTS = ("tool_calls", "files_changed", "completed_steps", "commits")  # oldest dropped first


@dataclass
class PromptExport:
    text: str
    model: dict[str, Any]  # the facts as rendered, after redaction and trimming
    document_id: str
    file_name: str
    redaction: RedactionReport
    trim: TrimReport
    failure_class: str | None
    notes: list[str] = field(default_factory=list)
    retarget: Callable[[str], str] | None = None  # the text for another file name

    @property
    def cwd(self) -> str | None:
        return self.model["brief"]["where"].get("cwd")

    def command_template(self, file_name: str | None = None) -> str:
        return start_template(self.cwd, file_name or self.file_name)


def start_template(cwd: str | None, file_name: str) -> str:
    """The three start commands once the brief is written, as a template for
    ``native.render_command`` (``{dir}``: the folder it was written to)."""
    prefix = f"cd {literal(shlex.quote(cwd))} && " if cwd else ""
    brief = "{dir}/" + literal(shlex.quote(file_name))
    return "\n".join(prefix + template.format(brief=brief) for _, template, _ in AGENTS)


def _mapped(source: ResumeSource, notes: list[str]) -> Mapped:
    """The framework's mapping, or the normalized fields when it refuses the checkpoint (a
    brief needs no task id or summary to be useful)."""
    try:
        return map_source(source)
    except UnmappableCheckpoint as exc:
        notes.append(
            f"the {source.framework} mapping refused this checkpoint ({exc}); the brief uses its stored fields"
        )
        cp = source.checkpoint
        return Mapped(
            task_summary=text_or_none(cp.get("summary")),
            completed_steps=[step_text(s) for s in cp.get("completed_steps") or []],
            remaining_steps=[step_text(s) for s in cp.get("remaining_steps") or []],
            failure_reason=text_or_none(cp.get("failure_reason")),
            agent_id=text_or_none(cp.get("agent_id")),
        )


def _model(source: ResumeSource, options: ExportOptions, mapped: Mapped, facts: Facts) -> dict[str, Any]:
    run, cp = source.run, source.checkpoint
    info = run.get("failure_info") or {}
    failure = failure_class(run, mapped.failure_reason)
    task = text_or_none(run.get("task")) or mapped.task_summary or text_or_none(cp.get("summary"))
    summary = text_or_none(cp.get("summary"))
    brief = {
        "tool_calls": facts.tool_calls,
        "files_changed": facts.files_changed,
        "completed_steps": mapped.completed_steps,
        "commits": facts.commits,
        "task": task,
        "summary": mapped.task_summary
        if mapped.task_summary not in (None, task)
        else (summary if summary not in (None, task) else None),
        "source": {
            "framework": source.framework,
            "run": run.get("native_id"),
            "checkpoint": cp.get("native_id"),
            "checkpoint_status": cp.get("status"),
            "agent": mapped.agent_id or cp.get("agent_id"),
            "agents": run.get("agents") or [],
            "next_agent": options.agent_id.strip() if options.agent_id else None,
        },
        "where": facts.where,
        "stopped": {
            "status": run.get("status"),
            "failure_class": failure,
            "reason": info.get("reason") or run.get("failure_reason") or mapped.failure_reason,
            "checkpoint_reason": mapped.failure_reason
            if mapped.failure_reason not in (None, info.get("reason"), run.get("failure_reason"))
            else None,
            "agent": info.get("agent"),
            "step": info.get("step"),
            "tool": info.get("tool"),
            "strategy": options.retry_strategy or mapped.retry_strategy or default_strategy(failure),
        },
        "last_error": facts.last_error,
        "todos": facts.todos,
        "todos_done": facts.todos_done,
        "todos_from": facts.todos_from,
        "remaining_steps": mapped.remaining_steps,
        "counts": {
            "tool_calls": len(facts.tool_calls),
            "files_changed": len(facts.files_changed),
            "completed_steps": len(mapped.completed_steps),
            "commits": len(facts.commits),
            "errors": facts.errors,
            "events": len(source.events or []),
        },
    }
    return {"brief": brief, "partial_output": mapped.partial_output}


def _trim_notes(trim: TrimReport) -> list[str]:
    if not trim.trimmed:
        return []
    parts = [f"{d['note']} of {d['path']}" for d in trim.dropped]
    if trim.shortened:
        parts.append("shortened " + ", ".join(trim.shortened))
    return ["trimmed to fit the byte budget: " + "; ".join(parts)]


def _fit(
    model: dict[str, Any], max_bytes: int, rendered: Callable[[dict[str, Any], TrimReport], str]
) -> tuple[dict[str, Any], TrimReport, str]:
    """Trim a copy of ``model`` (``trim.trim_document``, which counts JSON bytes) under the
    largest JSON budget whose Markdown fits ``max_bytes``: a binary search, since a tool call
    takes fewer bytes in Markdown than in JSON. Without any fit, the smallest one found."""
    low, high = 1024, size_of(model)
    best: tuple[dict[str, Any], TrimReport, str] | None = None
    smallest: tuple[dict[str, Any], TrimReport, str] | None = None
    for _ in range(14):
        if low > high:
            break
        budget = (low + high) // 2
        trimmed = copy.deepcopy(model)
        trim = trim_document(trimmed, budget, context_key="brief", list_keys=TRIMMED_LISTS)
        trim.max_bytes = max_bytes
        text = rendered(trimmed, trim)
        found = (trimmed, trim, text)
        if smallest is None or len(text) < len(smallest[2]):
            smallest = found
        if len(text.encode()) <= max_bytes:
            best, low = found, budget + 1
        else:
            high = budget - 1
    chosen = best or smallest
    assert chosen is not None
    return chosen


def build_prompt_brief(
    source: ResumeSource, options: ExportOptions | None = None, now: datetime | None = None
) -> PromptExport:
    """Gather, redact, trim and render the brief of one stored checkpoint."""
    options = options or ExportOptions(format="prompt")
    notes: list[str] = []
    if source.events is None:
        notes.append("the run's events were not read: tool calls, files, todos and errors are not listed")
    mapped = _mapped(source, notes)
    facts = gather(source.events or [], source.run, source.checkpoint)
    model = _model(source, options, mapped, facts)
    report = RedactionReport(enabled=options.redact)
    if options.redact:
        model, report = redact(model, report)
    document_id = str(uuid.uuid4())
    header = {
        "brief_id": document_id,
        "exported_at": (now or utcnow()).isoformat(),
        "baton_version": baton_version(),
    }
    run_part = safe_name(str(source.run.get("native_id") or source.run.get("id")), 40)
    file_name = f"brief-{run_part}-{document_id[:8]}.md"
    max_bytes = min(options.max_bytes, ARGUMENT_LIMIT)

    def trim_notes(trim: TrimReport) -> list[str]:
        found = _trim_notes(trim)
        if found and options.max_bytes > ARGUMENT_LIMIT:
            found.append(
                f"the byte budget was {ARGUMENT_LIMIT:,} bytes, not {options.max_bytes:,}: the start commands "
                "pass the brief as one command-line argument, which Linux caps at 128 KiB"
            )
        return found

    def rendered(trimmed: dict[str, Any], trim: TrimReport, name: str) -> str:
        return render(trimmed, header, [*notes, *trim_notes(trim)], report, name)

    text = rendered(model, TrimReport(max_bytes=max_bytes), file_name)
    size = len(text.encode())
    final, trim = model, TrimReport(max_bytes=max_bytes, bytes_before=size)
    if size > max_bytes:
        final, trim, text = _fit(model, max_bytes, lambda m, t: rendered(m, t, file_name))
    trim.bytes_before, trim.bytes_after = size, len(text.encode())
    if trim.bytes_after > max_bytes:
        notes.append(f"over the byte budget after trimming ({trim.bytes_after:,} > {max_bytes:,} bytes)")
        text = rendered(final, trim, file_name)
        trim.bytes_after = len(text.encode())
    return PromptExport(
        text=text,
        model=final,
        document_id=document_id,
        file_name=file_name,
        redaction=report,
        trim=trim,
        failure_class=model["brief"]["stopped"]["failure_class"],
        notes=[*notes, *trim_notes(trim)]
        + (
            []
            if options.redact
            else ["redaction was turned off: secrets in the source are exported as they are"]
        ),
        retarget=lambda name: rendered(final, trim, name),
    )

"""Codex CLI's own continuation: ``codex resume <id>`` for an interactive session (``codex
exec resume <id>`` for one started by ``codex exec``), run in the session's working
directory: the resume picker and ``codex resume`` look sessions up per cwd
(``openai/codex@codex-rs/core/src/rollout/mod.rs``). Codex reopens the rollout itself, so the
document Baton writes is only the command and what it points at; nothing is copied."""

from __future__ import annotations

import shlex
from typing import Any

from core.resume.mappers import UnmappableCheckpoint
from core.resume.native import NativeExport, literal
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource


def session_command(tool: str, session_id: str, cwd: str | None, exec_mode: bool = False) -> str:
    """The shell line that resumes ``session_id``: in ``cwd`` when known."""
    resume = f"{tool} exec resume" if exec_mode else f"{tool} resume"
    line = f"{resume} {shlex.quote(session_id)}"
    return f"cd {shlex.quote(cwd)} && {line}" if cwd else line


def native_document(
    source: ResumeSource, command: str, options: ExportOptions | None
) -> tuple[dict[str, Any], RedactionReport]:
    """The small document a session-resuming native export writes (redacted as asked)."""
    run, attributes = source.run, source.run.get("attributes") or {}
    document: dict[str, Any] = {
        "framework": source.framework,
        "session_id": run.get("native_id"),
        "checkpoint": source.checkpoint.get("native_id"),
        "cwd": attributes.get("cwd"),
        "git_branch": attributes.get("git_branch"),
        "status": run.get("status"),
        "failure_reason": run.get("failure_reason"),
        "task": run.get("task"),
        "command": command,
    }
    report = RedactionReport(enabled=options.redact if options else True)
    if report.enabled:
        document, report = redact(document, report)
    return document, report


def build_native_codex(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    if source.framework != "codex":
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}, not codex"
        )
    session = source.run.get("native_id")
    if not isinstance(session, str) or not session:
        raise UnmappableCheckpoint(f"checkpoint {source.checkpoint['id']}: its run has no Codex session id")
    attributes = source.run.get("attributes") or {}
    exec_mode = attributes.get("source") == "exec" or attributes.get("originator") == "codex_exec"
    cwd = attributes.get("cwd") if isinstance(attributes.get("cwd"), str) else None
    command = session_command("codex", session, cwd, exec_mode)
    document, report = native_document(source, command, options)
    notes = [
        f"run it in {cwd} (Codex finds sessions per working directory)" if cwd else "cwd unknown: add --all"
    ]
    if attributes.get("parent_kind"):
        notes.append(f"this session is a {attributes['parent_kind']} of {attributes.get('parent_native_id')}")
    return NativeExport(
        format="codex",
        document=document,
        relative_parts=(f"codex-{safe_name(session)}.json",),
        document_id=session,
        redaction=report,
        notes=notes,
        command_template=literal(str(document["command"])),
    )

"""Gemini CLI's own continuation: ``gemini --resume <sessionId>`` run in the project's folder
(sessions are kept per project, ``docs/cli/session-management.md``). The chat files hold
only the project's hash or slug, so the folder is the session's first ``directories`` entry
when it has one; the document Baton writes is the command and what it points at."""

from __future__ import annotations

import shlex

from core.resume.mappers import UnmappableCheckpoint
from core.resume.native import NativeExport, literal
from core.resume.native_codex import native_document
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.source import ResumeSource


def build_native_gemini(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    if source.framework != "gemini_cli":
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}, not gemini_cli"
        )
    session = source.run.get("native_id")
    if not isinstance(session, str) or not session:
        raise UnmappableCheckpoint(f"checkpoint {source.checkpoint['id']}: its run has no Gemini session id")
    attributes = source.run.get("attributes") or {}
    cwd = attributes.get("cwd") if isinstance(attributes.get("cwd"), str) else None
    line = f"gemini --resume {shlex.quote(session)}"
    command = f"cd {shlex.quote(cwd)} && {line}" if cwd else line
    document, report = native_document(source, command, options)
    note = (
        f"run it in {cwd} (Gemini CLI keeps sessions per project)"
        if cwd
        else f"run it in the project's folder (project {attributes.get('project_hash')}; the chat names no path)"
    )
    return NativeExport(
        format="gemini_cli",
        document=document,
        relative_parts=(f"gemini-{safe_name(session)}.json",),
        document_id=session,
        redaction=report,
        notes=[note],
        command_template=literal(command),
    )

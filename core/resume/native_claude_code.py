"""Claude Code's own continuation: ``claude --resume <sessionId>`` run in the session's
directory (Claude Code finds a session by the project folder of the cwd).

From the session's latest checkpoint the session is simply resumed. From an earlier one
(a rewind point, a branch that is not the live one) ``--fork-session`` starts a new session
from the conversation, so the original stays as it was, and ``--resume-session-at`` names
the message to continue from (the one before the prompt, or the compaction boundary).

The written file records what the command needs (session, directory, message) for the
export log; Claude Code reads its own transcript, not this file.
"""

from __future__ import annotations

import shlex
from typing import Any

from core.resume.mappers import UnmappableCheckpoint
from core.resume.native import NativeExport, literal
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource


def _resume_point(document: dict[str, Any]) -> str | None:
    """The message a continuation from this checkpoint starts after."""
    if document.get("type") == "system":  # a compaction boundary: go on from it
        return document.get("uuid") if isinstance(document.get("uuid"), str) else None
    parent = document.get("parentUuid") or document.get("logicalParentUuid")
    return parent if isinstance(parent, str) else None


def build_native_claude_code(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    options = options or ExportOptions(format="claude_code")
    if source.framework != "claude_code":
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}, not claude_code: use the acf format"
        )
    session = source.run.get("native_id")
    if not isinstance(session, str) or not session:
        raise UnmappableCheckpoint(f"checkpoint {source.checkpoint['id']}: its run has no session id")
    document = source.document if isinstance(source.document, dict) else {}
    attributes = source.run.get("attributes") or {}
    cwd = document.get("cwd") or attributes.get("cwd")
    latest = attributes.get("latest_checkpoint")
    earlier = latest is not None and latest != source.checkpoint.get("native_id")
    at = _resume_point(document) if earlier else None
    args = ["claude", "--resume", session]
    notes = []
    if earlier:
        args.append("--fork-session")
        if at:
            args += ["--resume-session-at", at]
        notes.append(
            "this checkpoint is before the session's latest one: --fork-session continues in a new "
            "session, leaving the original as it is"
        )
    command = shlex.join(args)
    if isinstance(cwd, str) and cwd:
        command = f"cd {shlex.quote(cwd)} && {command}"
    else:
        notes.append("the transcript names no working directory: run it in the project's folder")
    out: dict[str, Any] = {
        "framework": "claude_code",
        "session_id": session,
        "cwd": cwd,
        "git_branch": document.get("gitBranch") or attributes.get("git_branch"),
        "checkpoint": source.checkpoint.get("native_id"),
        "fork_session": earlier,
        "resume_session_at": at,
        "command": command,
    }
    report = RedactionReport(enabled=options.redact)
    if options.redact:
        out, report = redact(out, report)
    name = f"claude-resume-{safe_name(session[:8])}-{safe_name(str(out['checkpoint'])[:8])}.json"
    return NativeExport(
        format="claude_code",
        document=out,
        relative_parts=(name,),
        document_id=session,
        redaction=report,
        notes=notes,
        command_template=literal(str(out["command"])),
    )

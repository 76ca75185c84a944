"""Build the default resume document: an agent-checkpoint-framework (ACF) checkpoint.

The document passes ``agent_checkpoint.parse()`` of ACF 0.1.0 and 0.3.0 (their validators
are identical; both write and accept ``ac_version`` "0.1.0"). Ids follow the spec: a fresh
UUIDv4 ``checkpoint_id``; ``task_id`` is the source's ACF task id, else a UUIDv4-shaped id
derived from the run, so every export of one run shares it; ``parent_checkpoint_id`` is the
source checkpoint's id when it is a UUIDv4, else one derived from it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from core.ids import uuid4_shaped
from core.resume.mappers.base import Mapped, UnmappableCheckpoint
from core.resume.mapping import map_source
from core.resume.options import ExportOptions
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource
from core.resume.strategy import default_hint, default_strategy, failure_class
from core.resume.trim import TrimReport, size_of, trim_document
from core.timeutil import utcnow

AC_VERSION = "0.1.0"  # what both ACF releases write; their parse() accepts any N.N.N
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
REQUIRED = ("ac_version", "checkpoint_id", "task_id", "agent_id", "emitted_at", "status", "task_summary")
NOTES_KEY = "baton_export"
NOTES_RESERVE = 4096  # bytes kept free for provenance and notes when trimming


def baton_version() -> str:
    try:
        return version("baton")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


@dataclass
class AcfExport:
    document: dict[str, Any]
    failure_class: str | None
    redaction: RedactionReport
    trim: TrimReport
    notes: list[str] = field(default_factory=list)

    @property
    def document_id(self) -> str:
        return self.document["checkpoint_id"]


def task_id_for(source: ResumeSource, mapped: Mapped) -> str:
    if mapped.task_id:
        return mapped.task_id
    return uuid4_shaped("baton-task", source.framework, str(source.run.get("native_id") or source.run["id"]))


def parent_id_for(source: ResumeSource) -> str:
    native = str(source.checkpoint.get("native_id") or "")
    if source.framework == "acf" and UUID4.match(native):
        return native.lower()
    return uuid4_shaped(
        "baton-checkpoint",
        source.framework,
        str(source.run.get("native_id") or ""),
        native or source.checkpoint["id"],
    )


def validation_errors(doc: Any) -> list[str]:
    """The rules ``agent_checkpoint.parse()`` applies (ACF format notes, A.9)."""
    if not isinstance(doc, dict):
        return ["document must be a JSON object"]
    errors = [
        f"{key}: must be a non-empty string"
        for key in REQUIRED
        if not isinstance(doc.get(key), str) or not doc[key].strip()
    ]
    if errors:
        return errors
    if not re.fullmatch(r"\d+\.\d+\.\d+", doc["ac_version"]):
        errors.append("ac_version: must look like N.N.N")
    for key in ("checkpoint_id", "task_id", "parent_checkpoint_id"):
        if doc.get(key) is not None and not (isinstance(doc[key], str) and UUID4.match(doc[key])):
            errors.append(f"{key}: must be a UUIDv4")
    try:
        datetime.fromisoformat(doc["emitted_at"].replace("Z", "+00:00"))
    except ValueError:
        errors.append("emitted_at: not ISO 8601")
    if doc["status"] not in ("partial", "failed", "paused", "completed"):
        errors.append("status: not a checkpoint status")
    if doc.get("retry_strategy") not in (None, "resume", "restart", "escalate"):
        errors.append("retry_strategy: must be resume, restart or escalate")
    confidence = doc.get("confidence")
    if confidence is not None and (not isinstance(confidence, int | float) or not 0 <= confidence <= 1):
        errors.append("confidence: must be a number in [0, 1]")
    hint = doc.get("executor_hint")
    if hint is not None and not (
        isinstance(hint, str) and (hint in ("same", "any") or hint.startswith("capability:"))
    ):
        errors.append("executor_hint: must be same, any or capability:<name>")
    return errors


def provenance(source: ResumeSource) -> dict[str, Any]:
    return {
        "source_framework": source.framework,
        "source_run_id": source.run.get("native_id"),
        "source_checkpoint_id": source.checkpoint.get("native_id"),
        "source_file": source.checkpoint.get("source_path"),
        "source_status": source.checkpoint.get("status"),
        "baton_run_id": source.run.get("id"),
        "baton_checkpoint_id": source.checkpoint.get("id"),
        "baton_version": baton_version(),
    }


def _context(mapped: Mapped) -> dict[str, Any]:
    """The source context with Baton's own keys kept apart (a source key that collides is
    renamed rather than overwritten)."""
    context: dict[str, Any] = {}
    for key, value in mapped.context.items():
        if value is None:
            continue
        context[f"source_{key}" if key in ("provenance", NOTES_KEY) else key] = value
    return context


def build_acf_document(
    source: ResumeSource, options: ExportOptions | None = None, now: datetime | None = None
) -> AcfExport:
    """Map, redact and trim one stored checkpoint into an ACF resume document."""
    options = options or ExportOptions()
    mapped = map_source(source)
    reason = mapped.failure_reason
    failure = failure_class(source.run, reason)
    source_agent = mapped.agent_id or (source.run.get("agents") or [None])[0] or source.framework
    agent = options.agent_id.strip() if options.agent_id else source_agent
    if options.retry_strategy:
        strategy, strategy_from = options.retry_strategy, "user"
    elif mapped.retry_strategy:
        strategy, strategy_from = mapped.retry_strategy, "source checkpoint"
    else:
        strategy, strategy_from = default_strategy(failure), f"failure class {failure or 'none'}"
    hint = (
        options.executor_hint
        or (mapped.executor_hint if agent == source_agent else None)
        or default_hint(strategy, agent == source_agent)
    )

    body: dict[str, Any] = {
        "task_summary": mapped.task_summary,
        "completed_steps": mapped.completed_steps,
        "remaining_steps": mapped.remaining_steps,
        "partial_output": mapped.partial_output,
        "failure_reason": reason,
        "context_snapshot": _context(mapped),
    }
    report = RedactionReport(enabled=options.redact)
    if options.redact:
        body, report = redact(body, report)
    document: dict[str, Any] = {
        "ac_version": AC_VERSION,
        "checkpoint_id": str(uuid.uuid4()),
        "task_id": task_id_for(source, mapped),
        "agent_id": agent,
        "emitted_at": (now or utcnow()).isoformat(),
        "status": "partial",
        "task_summary": body["task_summary"],
        "completed_steps": body["completed_steps"],
        "remaining_steps": body["remaining_steps"],
        "partial_output": body["partial_output"],
        "failure_reason": body["failure_reason"],
        "confidence": mapped.confidence,
        "retry_strategy": strategy,
        "executor_hint": hint,
        "context_snapshot": body["context_snapshot"],
        "parent_checkpoint_id": parent_id_for(source),
    }
    document = {k: v for k, v in document.items() if v is not None}  # ACF leaves None out
    trim = trim_document(document, options.max_bytes, reserve=min(NOTES_RESERVE, options.max_bytes // 4))
    notes = []
    if trim.trimmed:
        notes.append(
            "context trimmed to fit the byte budget: "
            + "; ".join(f"{d['note']} of {d['path']}" for d in trim.dropped)
            + ("; shortened " + ", ".join(trim.shortened) if trim.shortened else "")
        )
    if not options.redact:
        notes.append("redaction was turned off: secrets in the source are exported as they are")
    document["context_snapshot"]["provenance"] = provenance(source)
    document["context_snapshot"][NOTES_KEY] = {
        "failure_class": failure,
        "retry_strategy_from": strategy_from,
        "redaction": report.as_dict() | {"paths": report.as_dict()["paths"][:200]},
        "trim": trim.as_dict(),
        "notes": notes,
    }
    trim.bytes_after = size_of(document)
    document["context_snapshot"][NOTES_KEY]["trim"].update(
        bytes_after=trim.bytes_after, over_budget=trim.bytes_after > trim.max_bytes
    )
    errors = validation_errors(document)
    if errors:  # a mapper let something through that the spec refuses: say exactly what
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} ({source.framework}) maps to an invalid resume document: "
            + "; ".join(errors)
        )
    return AcfExport(document=document, failure_class=failure, redaction=report, trim=trim, notes=notes)

"""agent-checkpoint-framework (ACF) 0.1.0 / 0.3.0 checkpoint documents.

ACF writes no files itself, so there is no path convention: a document is recognised by
its keys. A file may hold one document, a JSON array of them, or JSON Lines. The run is the
task (``task_id``); chains follow ``parent_checkpoint_id`` (forks and several roots are
legal); a handoff shows only as ``agent_id`` changing along a chain.

Identity fields must be non-empty strings or the file fails. Everything else is read
leniently, because the library itself emits documents its own validator rejects (a
non-UUID ``task_id`` from ``new_checkpoint``): such documents load with a warning.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from core.records import CheckpointRecord, ParsedFile, RunRecord
from core.timeutil import parse_timestamp
from ingest.content import Content, line_values
from ingest.errors import ParseError
from ingest.spec import FormatSpec

FRAMEWORK = "acf"
REQUIRED = ("ac_version", "checkpoint_id", "task_id", "agent_id", "emitted_at", "status", "task_summary")
STATUS_MAP = {"partial": "running", "failed": "failed", "paused": "paused", "completed": "completed"}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)


def _stated(value: Any) -> bool:
    """A string with something in it besides blanks (``isspace`` builds no stripped copy)."""
    return isinstance(value, str) and bool(value) and not value.isspace()


@functools.lru_cache(maxsize=1024)
def _is_uuid4(value: str) -> bool:
    """Cached: every checkpoint of a task names the same task id."""
    return UUID4.match(value) is not None


def _is_checkpoint(value: Any) -> bool:
    return isinstance(value, dict) and "ac_version" in value and "checkpoint_id" in value


def detect(content: Content) -> bool:
    first = content.first_value
    if isinstance(first, list):
        first = first[0] if first else None
    return _is_checkpoint(first)


def _documents(content: Content) -> list[tuple[int | None, Any]]:
    if content.kind == "jsonl":
        return line_values(content)
    if isinstance(content.json, list):
        return [(None, doc) for doc in content.json]
    return [(None, content.json)]


def _string_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def checkpoint_from_document(
    doc: Any, content: Content, line: int | None, warnings: list[str]
) -> CheckpointRecord:
    """Normalize one ACF document; raise ParseError when it cannot identify a checkpoint."""
    if not _is_checkpoint(doc):
        raise ParseError(content.path, "not an agent-checkpoint document (no ac_version/checkpoint_id)", line)
    for key in ("checkpoint_id", "task_id"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise ParseError(content.path, f"field '{key}' must be a non-empty string", line)

    def warn(message: str) -> None:
        warnings.append(f"{content.path}:{line}: {message}" if line else f"{content.path}: {message}")

    missing = [key for key in REQUIRED if not _stated(doc.get(key))]
    if missing:
        warn(f"checkpoint {doc['checkpoint_id']} lacks {', '.join(missing)}")
    if not _is_uuid4(doc["task_id"]):
        warn(f"task_id {doc['task_id']!r} is not a UUIDv4 (ACF's own parse() rejects it)")
    native_status = doc.get("status")
    status = STATUS_MAP.get(native_status) if isinstance(native_status, str) else None
    if status is None:
        warn(f"unknown status {native_status!r}")
    parent = doc.get("parent_checkpoint_id")
    reason = doc.get("failure_reason")
    return CheckpointRecord(
        framework=FRAMEWORK,
        run_native_id=doc["task_id"],
        native_id=doc["checkpoint_id"],
        document=doc,
        parent_native_id=parent if isinstance(parent, str) and parent else None,
        agent_id=doc.get("agent_id") if isinstance(doc.get("agent_id"), str) else None,
        status=status or "unknown",
        created_at=parse_timestamp(doc.get("emitted_at")),
        completed_steps=_string_list(doc.get("completed_steps")),
        remaining_steps=_string_list(doc.get("remaining_steps")),
        failure_reason=reason if isinstance(reason, str) else None,
        summary=doc.get("task_summary") if isinstance(doc.get("task_summary"), str) else None,
        attributes={
            key: doc[key]
            for key in ("ac_version", "confidence", "retry_strategy", "executor_hint")
            if doc.get(key) is not None
        }
        | {"native_status": native_status},
    )


def _run_from(checkpoint: CheckpointRecord) -> RunRecord:
    doc = checkpoint.document
    return RunRecord(
        framework=FRAMEWORK,
        native_id=checkpoint.run_native_id,
        as_of=checkpoint.created_at,
        status=checkpoint.status,
        task=checkpoint.summary,
        agents=[checkpoint.agent_id] if checkpoint.agent_id else [],
        started_at=checkpoint.created_at,
        ended_at=checkpoint.created_at,
        failure_reason=checkpoint.failure_reason if checkpoint.status == "failed" else None,
        failure_signals={
            key: doc[key]
            for key in ("status", "failure_reason", "retry_strategy", "executor_hint")
            if key in doc
        },
    )


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format="acf.checkpoint")
    for line, doc in _documents(content):
        checkpoint = checkpoint_from_document(doc, content, line, parsed.warnings)
        parsed.checkpoints.append(checkpoint)
        parsed.runs.append(_run_from(checkpoint))
    return parsed


FORMAT = FormatSpec(
    name="acf.checkpoint",
    framework=FRAMEWORK,
    description="agent-checkpoint-framework checkpoint documents (JSON, JSON array or JSONL)",
    detect=detect,
    parse=parse,
    append_only=True,
)

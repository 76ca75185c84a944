"""One export end to end: pick the format, build the document, write it, log it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from core.resume.acf_document import build_acf_document
from core.resume.log import record_export
from core.resume.mappers import UnmappableCheckpoint
from core.resume.native import render_command
from core.resume.native_harness import build_native_harness, harness_command
from core.resume.native_loopengt import build_native_loopengt
from core.resume.options import ExportOptions
from core.resume.outbox import default_outbox, safe_name, write_bytes
from core.resume.redact import RedactionReport
from core.resume.source import ResumeSource, load_source
from core.resume.trim import TrimReport

NATIVE_FORMATS = {"harness": "harness", "react-agent-harness": "harness", "loopengt": "loopengt"}


@dataclass
class ExportResult:
    format: str  # acf | harness | loopengt
    document: dict[str, Any]
    document_id: str
    relative_parts: tuple[str, ...]
    redaction: RedactionReport
    trim: TrimReport | None = None
    failure_class: str | None = None
    notes: list[str] = field(default_factory=list)
    command_template: str = ""
    path: Path | None = None  # set once written
    folder: Path | None = None

    @property
    def file_name(self) -> str:
        return self.relative_parts[-1]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.document, default=str, option=orjson.OPT_INDENT_2) + b"\n"

    def command(self, folder: Path | None = None) -> str:
        """How to resume from the written file (native formats), or to check it (acf)."""
        folder = folder or self.folder or default_outbox() / self.format
        if self.command_template:
            return render_command(self.command_template, folder)
        path = self.path or folder.joinpath(*self.relative_parts)
        return (
            'python -c "import agent_checkpoint, sys; r = agent_checkpoint.parse(open(sys.argv[1]).read()); '
            f'print(r.ok, r.errors)" {shlex.quote(str(path))}'
        )

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "document_id": self.document_id,
            "path": str(self.path) if self.path else None,
            "bytes": len(self.to_bytes()),
            "failure_class": self.failure_class,
            "redaction": self.redaction.as_dict(),
            "trim": self.trim.as_dict() if self.trim else None,
            "notes": self.notes,
            "command": self.command(),
        }


def resolve_format(source: ResumeSource, requested: str) -> str:
    if requested == "acf":
        return "acf"
    native = NATIVE_FORMATS.get(source.framework)
    if requested == "native":
        if native is None:
            raise UnmappableCheckpoint(
                f"{source.framework} has no native resume format Baton can write; use the acf format"
            )
        return native
    if requested != native:
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}; the {requested} format needs a "
            f"{requested} checkpoint (use acf{' or ' + native if native else ''})"
        )
    return requested


def build_export(source: ResumeSource, options: ExportOptions) -> ExportResult:
    fmt = resolve_format(source, options.format)
    if fmt == "acf":
        acf = build_acf_document(source, options)
        name = f"resume-{safe_name(acf.document['task_id'][:8])}-{acf.document_id}.json"
        return ExportResult(
            "acf",
            acf.document,
            acf.document_id,
            (name,),
            acf.redaction,
            acf.trim,
            acf.failure_class,
            acf.notes,
        )
    native = (
        build_native_harness(source, options) if fmt == "harness" else build_native_loopengt(source, options)
    )
    return ExportResult(
        fmt,
        native.document,
        native.document_id,
        native.relative_parts,
        native.redaction,
        None,
        None,
        native.notes,
        native.command_template,
    )


def write_export(result: ExportResult, folder: Path | None = None, file: Path | None = None) -> Path:
    """Write into ``folder`` (default: the outbox's per-format folder) at the export's own
    relative path, or to exactly ``file`` (acf and harness only)."""
    if file is not None:
        if len(result.relative_parts) > 1:
            raise UnmappableCheckpoint(
                f"the {result.format} format writes a folder tree; give a folder, not a file"
            )
        folder, parts = file.expanduser().parent, (file.name,)
        if result.format == "harness":  # the key is the file name
            result.document_id = file.name.removesuffix(".json")
            result.command_template = harness_command(result.document_id)
    else:
        folder = folder or default_outbox() / result.format
        parts = result.relative_parts
    result.path = write_bytes(folder, parts, result.to_bytes())
    result.folder = folder.expanduser().resolve()
    return result.path


def export_checkpoint(
    engine: Engine,
    checkpoint_ref: str,
    options: ExportOptions,
    *,
    folder: Path | None = None,
    file: Path | None = None,
    destination: str | None = None,
) -> ExportResult:
    """Build and deliver one export and log it. ``destination`` ``"stdout"`` or
    ``"download"`` skips writing (the caller delivers the bytes); otherwise the file is written
    to ``file``, ``folder`` or the outbox."""
    source = load_source(engine, checkpoint_ref)
    result = build_export(source, options)
    if destination is None:
        destination = str(write_export(result, folder, file))
    record_export(engine, source, result, options, destination)
    return result

"""One export end to end: pick the format, build the document, write it, log it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from core.frameworks.parts import NativeForm
from core.frameworks.registry import ALIASES, FRAMEWORKS, lookup
from core.resume.acf_document import build_acf_document
from core.resume.export_log import record_export
from core.resume.load import load_source
from core.resume.mappers.base import UnmappableCheckpoint
from core.resume.options import ExportOptions
from core.resume.outbox import default_outbox, safe_name, write_bytes
from core.resume.prompt_brief import build_prompt_brief
from core.resume.result import ExportResult
from core.resume.source import ResumeSource

# Framework (or its long name) -> its native format, from each framework's module.
NATIVE_FORMATS = {
    name: form.format
    for name in (*FRAMEWORKS, *ALIASES)
    if (form := lookup(ALIASES.get(name, name)).native_form) is not None
}
_NATIVE_FORMS: dict[str, NativeForm] = {
    form.format: form for parts in FRAMEWORKS.values() if (form := parts.native_form) is not None
}


def resolve_format(source: ResumeSource, requested: str) -> str:
    if requested in ("acf", "prompt"):  # every framework
        return requested
    native = NATIVE_FORMATS.get(source.framework)
    if requested == "native":
        if native is None:
            why = getattr(lookup(ALIASES.get(source.framework, source.framework)), "NO_NATIVE_FORMAT", None)
            raise UnmappableCheckpoint(
                f"{source.framework}: {why}"
                if why
                else f"{source.framework} has no native resume format Baton can write; use the acf format"
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
    if fmt == "prompt":
        return _prompt_result(source, options)
    native = _NATIVE_FORMS[fmt].build(source, options)
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


def _prompt_result(source: ResumeSource, options: ExportOptions) -> ExportResult:
    brief = build_prompt_brief(source, options)

    def retarget(name: str) -> tuple[str, str]:
        return (brief.retarget(name) if brief.retarget else brief.text), brief.command_template(name)

    return ExportResult(
        "prompt",
        brief.model,
        brief.document_id,
        (brief.file_name,),
        brief.redaction,
        brief.trim,
        brief.failure_class,
        brief.notes,
        brief.command_template(),
        text=brief.text,
        retarget=retarget,
    )


def write_export(result: ExportResult, folder: Path | None = None, file: Path | None = None) -> Path:
    """Write into ``folder`` (default: the outbox's per-format folder) at the export's own
    relative path, or to exactly ``file`` (acf, prompt and harness only)."""
    if file is not None:
        if len(result.relative_parts) > 1:
            raise UnmappableCheckpoint(
                f"the {result.format} format writes a folder tree; give a folder, not a file"
            )
        folder, parts = file.expanduser().parent, (file.name,)
        if result.retarget is not None:  # the brief names its own file in its start commands
            result.text, result.command_template = result.retarget(file.name)
        form = _NATIVE_FORMS.get(result.format)
        if form is not None and form.command_for_key is not None:  # the key is the file name
            result.document_id = file.name.removesuffix(".json")
            result.command_template = form.command_for_key(result.document_id)
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
    source = load_source(engine, checkpoint_ref, with_events=options.format == "prompt")
    result = build_export(source, options)
    if destination is None:
        destination = str(write_export(result, folder, file))
    record_export(engine, source, result, options, destination)
    return result

"""A react-agent-harness checkpoint that ``runtime.resume(key)`` accepts.

The stored document is the harness's own (0.14 ``kind``/``version`` state, or the 0.0.2
plain dict), so it is written back unchanged apart from redaction, under the key
``--resume`` needs: the file name is ``<key>.json`` in the folder ``FileCheckpointStore``
reads (``CHECKPOINT_DIR``). 0.14 refuses 0.0.2 checkpoints (``LegacyCheckpointError``), so
the shape is kept as the source wrote it, and the command says which version resumes it.
"""

from __future__ import annotations

import shlex
from pathlib import PurePath

from core.resume.mappers import UnmappableCheckpoint
from core.resume.mappers.harness import is_orchestrator
from core.resume.native import NativeExport, literal
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource


def harness_key(source: ResumeSource) -> str:
    """The key the checkpoint was stored under: the file name when it fits the document
    (it also holds the task id of an orchestrated 0.14 agent), else the library convention."""
    doc = source.document
    run_id = str(doc.get("run_id") or "")
    path = source.checkpoint.get("source_path")
    stem = (
        PurePath(path).name.removesuffix(".json") if isinstance(path, str) and path.endswith(".json") else ""
    )
    if stem and run_id and stem.startswith(run_id):
        return stem
    if is_orchestrator(doc):
        return run_id
    return f"{run_id}:{doc.get('agent_id')}"


def harness_command(key: str) -> str:
    """The resume command template for a key (``{dir}`` is filled in once written)."""
    return f"CHECKPOINT_DIR={{dir}} python YOUR_SCRIPT.py --resume {literal(shlex.quote(key))}"


def build_native_harness(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    options = options or ExportOptions(format="harness")
    doc = source.document
    if source.framework not in ("harness", "react-agent-harness"):
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}, not react-agent-harness: "
            "use the acf format"
        )
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("run_id"), str)
        or not (is_orchestrator(doc) or ("agent_id" in doc and "task" in doc))
    ):
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: the stored document is not a harness agent or orchestrator "
            "checkpoint (it needs run_id and agent_id+task, or goal+plan), so the harness cannot resume it"
        )
    report = RedactionReport(enabled=options.redact)
    if options.redact:
        doc, report = redact(doc, report)
    key = safe_name(harness_key(source))
    modern = "kind" in doc
    version = "react-agent-harness 0.13 or later" if modern else "react-agent-harness 0.0.x"
    notes = [
        f"written in the {'0.14' if modern else '0.0.2'} checkpoint shape: resume it with {version}"
        + ("" if modern else "; the script must call harness.hitl.maybe_resume(runtime)")
    ]
    if options.agent_id and options.agent_id != doc.get("agent_id"):
        notes.append(
            "the native harness format resumes the same agent; --agent applies to the acf format only"
        )
    return NativeExport(
        format="harness",
        document=doc,
        relative_parts=(f"{key}.json",),
        document_id=key,
        redaction=report,
        notes=notes,
        command_template=harness_command(key),
    )

"""A loopengt ``CheckpointData`` that ``CheckpointManager.load`` reads and ``restore_state``
applies. Laid out as the manager expects below its ``runs_dir``:
``<run_id>/checkpoints/<checkpoint_id>.json``, with a fresh checkpoint id so the newest
export is also the newest file (``load(run_id)`` picks by modification time).

``current_step_index`` is set to the first step, in order, that is not completed:
``LoopExecutor.resume()`` re-runs from that index, so completed work is not redone.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.resume.mappers import UnmappableCheckpoint
from core.resume.mappers.loopengt import step_states
from core.resume.native import NativeExport, literal
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource
from core.timeutil import utcnow

STEP_STATUSES = {"pending", "running", "completed", "failed", "skipped", "retrying"}


def _agent_states(doc: dict[str, Any]) -> list[dict[str, Any]]:
    states = doc.get("agent_states")
    if isinstance(states, dict):
        return [s | {"agent_name": s.get("agent_name", n)} for n, s in states.items() if isinstance(s, dict)]
    return [s for s in states or [] if isinstance(s, dict) and isinstance(s.get("agent_name"), str)]


def build_native_loopengt(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    options = options or ExportOptions(format="loopengt")
    doc = source.document
    if source.framework != "loopengt":
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}, not loopengt: use the acf format"
        )
    if not isinstance(doc, dict) or not isinstance(doc.get("run_id"), str) or "step_states" not in doc:
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: the stored document has no run_id/step_states, so loopengt "
            "cannot restore it"
        )
    steps = step_states(doc)
    bad = sorted({str(s.get("status")) for s in steps if s.get("status") not in STEP_STATUSES})
    if bad:
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: unknown step status {', '.join(bad)}"
        )
    restart = next((i for i, s in enumerate(steps) if s.get("status") != "completed"), len(steps))
    checkpoint_id = uuid.uuid4().hex[:12]
    out: dict[str, Any] = {
        "checkpoint_id": checkpoint_id,
        "run_id": doc["run_id"],
        "created_at": utcnow().isoformat().replace("+00:00", "Z"),
        "current_step_index": restart,
        "step_states": steps,
        "agent_states": _agent_states(doc),
        "context": dict(doc.get("context") or {}),
        "history": list(doc.get("history") or []),
    }
    report = RedactionReport(enabled=options.redact)
    if options.redact:
        out, report = redact(out, report)
    notes = []
    if restart != doc.get("current_step_index"):
        notes.append(
            f"current_step_index set to {restart} (first step not completed; the source said "
            f"{doc.get('current_step_index')})"
        )
    run_part = safe_name(doc["run_id"])
    loop = (source.run.get("attributes") or {}).get("loop_name") or doc.get("loop_name") or "YOUR_LOOP"
    command = (
        "python - <<'PY'\n"
        "import asyncio, pathlib, yaml\n"
        "from loopengt.core.models.loop_spec import LoopSpec\n"
        "from loopengt.core.runtime.checkpoint import CheckpointManager\n"
        "from loopengt.core.runtime.executor import LoopExecutor\n"
        "async def main():\n"
        "    cm = CheckpointManager(runs_dir=pathlib.Path({dir_py}))\n"
        f"    cp = await cm.load({literal(repr(run_part))}, {literal(repr(checkpoint_id))})\n"
        f"    spec = LoopSpec.model_validate(yaml.safe_load(open({literal(repr(str(loop) + '.yaml'))})))\n"
        "    executor = LoopExecutor(spec)\n"
        "    cm.restore_state(cp, executor._state)\n"
        "    state = await executor.resume()\n"
        "    print(state.status, state.error or '')\n"
        "asyncio.run(main())\n"
        "PY"
    )
    return NativeExport(
        format="loopengt",
        document=out,
        relative_parts=(run_part, "checkpoints", f"{checkpoint_id}.json"),
        document_id=checkpoint_id,
        redaction=report,
        notes=notes,
        command_template=command,
    )

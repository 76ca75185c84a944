"""react-agent-harness: its core knowledge in one place.

* failure rules: ``error_kind`` decides (``ERROR_KINDS``); a checkpoint left on disk with
  no terminal error means the process was killed or crashed;
* usable for resume: not failed (no ``phase: failed``, no ``error_kind``), with a run id and
  either an agent and its task or an orchestrator's goal;
* resume mapper ``core.resume.mappers.harness``; native form: a checkpoint
  ``runtime.resume(key)`` accepts (``core.resume.native_harness``), keyed by its file name;
* cost: the Anthropic / Claude Code adapters report uncached ``tokens_in`` plus
  ``cache_read_tokens`` / ``cache_creation_tokens`` -> input EXCLUDES cache; the OpenAI
  adapter reports ``prompt_tokens``, which INCLUDES cached tokens, and no cache counts (the
  fields are null): all of it is priced at the input rate, an upper bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.failure_text import Verdict
from core.frameworks.parts import NativeForm
from core.resume.mappers.harness import map_harness
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

NAME = "harness"

ERROR_KINDS = {
    "max_steps": "max_steps",
    "budget": "budget_exceeded",
    "unparseable_think": "validation_error",
}


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    kind = signals.get("error_kind")
    if kind in ERROR_KINDS:
        return Verdict(ERROR_KINDS[kind], f"harness error_kind={kind}")
    if signals.get("checkpoint_left_on_disk") and not (signals.get("error") or signals.get("aborted")):
        # A checkpoint left behind with no terminal error: the process was killed or crashed
        # (an orchestration's earlier, skipped task errors did not end it).
        return Verdict("interrupted", "harness checkpoint left on disk, no error recorded")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    doc = checkpoint.get("document")
    if not isinstance(doc, dict) or doc.get("phase") == "failed" or doc.get("error_kind"):
        return False
    return bool(doc.get("run_id")) and (
        bool(doc.get("agent_id") and doc.get("task")) or bool(doc.get("goal"))
    )


map_checkpoint = map_harness


# The native writer is imported when an export needs it (it brings redaction and the
# outbox), so that listing runs, costs or failures does not load it.
def _build_native(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    from core.resume.native_harness import build_native_harness

    return build_native_harness(source, options)


def _command_for_key(key: str) -> str:
    from core.resume.native_harness import harness_command

    return harness_command(key)


native_form: NativeForm | None = NativeForm("harness", _build_native, command_for_key=_command_for_key)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    """Null cache counts mean the OpenAI adapter's ``prompt_tokens``, which include them."""
    return cache_read_tokens is None and cache_write_tokens is None

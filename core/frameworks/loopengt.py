"""loopengt: its core knowledge in one place.

* failure rules: a cancelled run was interrupted; the rest is read from text (its parallel
  fan-out's generic wrapper is seen through in ``core.failures.rules``);
* usable for resume: step states, an integer ``current_step_index`` and no failed step;
* resume mapper ``core.resume.mappers.loopengt``; native form: a loopengt checkpoint
  (``core.resume.native_loopengt``);
* cost: ``prompt_tokens`` (OpenAI naming), no cache fields -> input INCLUDES cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.failure_text import Verdict
from core.frameworks.parts import NativeForm
from core.resume.mappers.loopengt import map_loopengt
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

NAME = "loopengt"


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    if signals.get("status") == "cancelled":
        return Verdict("interrupted", "loopengt status=cancelled")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    doc = checkpoint.get("document")
    steps = doc.get("step_states") if isinstance(doc, dict) else None
    states = steps.values() if isinstance(steps, dict) else steps if isinstance(steps, list) else None
    return (
        states is not None
        and isinstance(doc.get("current_step_index"), int)
        and not any(isinstance(s, dict) and s.get("status") == "failed" for s in states)
    )


map_checkpoint = map_loopengt


# The native writer is imported when an export needs it (it brings redaction and the
# outbox), so that listing runs, costs or failures does not load it.
def _build_native(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    from core.resume.native_loopengt import build_native_loopengt

    return build_native_loopengt(source, options)


native_form: NativeForm | None = NativeForm("loopengt", _build_native)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return True

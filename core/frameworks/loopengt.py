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
from typing import Any

from core.failure_text import Verdict
from core.resume.mappers.loopengt import map_loopengt
from core.resume.native import NativeForm
from core.resume.native_loopengt import build_native_loopengt

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
native_form: NativeForm | None = NativeForm("loopengt", build_native_loopengt)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return True

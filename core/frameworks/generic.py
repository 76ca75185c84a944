"""What Baton does for a framework it has no module for, and the defaults a framework module
may take: the one explicit answer for an unknown framework, so the generic code never guesses.

* failure rules: none; the text rules decide (``core.failure_text``);
* usable for resume: any checkpoint that is not failed (checked before this), because the
  generic mapper exports from the normalized checkpoint fields alone;
* resume mapper: ``map_generic``; native form: none (only the acf document);
* cost: input counts by model family: Anthropic (``claude*``) EXCLUDES cache reads and
  writes, everything else (OpenAI ``prompt_tokens``, Gemini ``promptTokenCount``, OTel
  ``input_tokens``) INCLUDES them.
"""

from __future__ import annotations

from typing import Any

from core.failure_text import FailureRule
from core.frameworks.parts import NativeForm
from core.resume.mappers.generic import map_generic

NAME = "generic"

failure_rule: FailureRule | None = None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    return True


map_checkpoint = map_generic
native_form: NativeForm | None = None


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    """Whether the input count already contains cache reads/writes, by model family."""
    return not (model or "").lower().split("/")[-1].startswith(("claude", "anthropic"))

"""agent-checkpoint-framework (ACF): its core knowledge in one place.

* failure rules: none structured: ACF checkpoints carry ``retry_strategy``/``executor_hint``
  (how to go on, not why it failed), so the text rules decide;
* usable for resume: a document with its ``checkpoint_id`` and ``task_id``;
* resume mapper: the source already speaks the spec (``core.resume.mappers.acf``); native
  form: none beyond the acf document itself;
* cost: ACF records no tokens at all: any usage is read by model family, as for any source.
"""

from __future__ import annotations

from typing import Any

from core.failure_text import FailureRule
from core.frameworks import generic
from core.frameworks.parts import NativeForm
from core.resume.mappers.acf import map_acf

NAME = "acf"

failure_rule: FailureRule | None = None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    doc = checkpoint.get("document")
    return isinstance(doc, dict) and bool(doc.get("checkpoint_id")) and bool(doc.get("task_id"))


map_checkpoint = map_acf
native_form: NativeForm | None = None
input_includes_cache = generic.input_includes_cache

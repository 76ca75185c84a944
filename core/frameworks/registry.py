"""The one table of framework modules that the generic code (failures, costs, resume) looks
things up in. Adding a framework: one module in ``core/frameworks/``, one entry here and one
name in ``core.frameworks.NAMES`` (a test checks that the two agree and that each module
has every part).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from core.failure_text import FailureRule
from core.frameworks import acf, generic, harness, loopengt, techrevati
from core.resume.mappers.base import Mapped
from core.resume.native import NativeForm
from core.resume.source import ResumeSource


class Framework(Protocol):
    """What each framework module provides (``PARTS``); ``None`` says a part is absent."""

    NAME: str
    failure_rule: FailureRule | None  # its structured signals -> a class, before the text rules
    map_checkpoint: Callable[[ResumeSource], Mapped]  # a checkpoint in the resume document's terms
    native_form: NativeForm | None  # its own continuation format, if Baton writes one

    def usable_for_resume(self, checkpoint: dict[str, Any]) -> bool:
        """Whether a checkpoint that is not failed holds what a resume needs."""
        ...

    def input_includes_cache(
        self, model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
    ) -> bool:
        """Whether its input token count already contains cache reads/writes."""
        ...


PARTS = ("NAME", "failure_rule", "usable_for_resume", "map_checkpoint", "native_form", "input_includes_cache")

FRAMEWORKS: dict[str, Framework] = {m.NAME: m for m in (acf, loopengt, harness, techrevati)}

# The frameworks' long names: the resume path (mapper, native form) accepts them too.
ALIASES = {
    "react-agent-harness": "harness",
    "agent-checkpoint-framework": "acf",
    "techrevati-runtime": "techrevati",
}


def lookup(name: str) -> Framework:
    """The module of framework ``name``; one Baton has no module for gets ``generic``."""
    return FRAMEWORKS.get(name, generic)

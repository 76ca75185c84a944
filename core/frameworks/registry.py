"""The one table of framework modules that the generic code (failures, costs, resume) looks
things up in. Adding a framework: one module in ``core/frameworks/`` with every part of
``parts.PARTS``, one entry here and one name in ``core.frameworks.NAMES`` (a test checks
that the two agree and that each module has every part).
"""

from __future__ import annotations

from core.frameworks import (
    acf,
    claude_code,
    codex,
    gemini_cli,
    generic,
    harness,
    langgraph,
    loopengt,
    otel,
    techrevati,
)
from core.frameworks.parts import Framework

FRAMEWORKS: dict[str, Framework] = {
    m.NAME: m for m in (acf, loopengt, harness, techrevati, codex, gemini_cli, otel, claude_code, langgraph)
}

# The frameworks' long names: the resume path (mapper, native form) accepts them too.
ALIASES = {
    "react-agent-harness": "harness",
    "agent-checkpoint-framework": "acf",
    "techrevati-runtime": "techrevati",
}


def lookup(name: str) -> Framework:
    """The module of framework ``name``; one Baton has no module for gets ``generic``."""
    return FRAMEWORKS.get(name, generic)

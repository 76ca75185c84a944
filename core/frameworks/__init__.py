"""The one list of frameworks Baton reads. Each has one module here with its core knowledge
(failure rules, what is usable for resume, resume mapping and native form, token conventions),
one parser package in ``ingest/parsers/<name>/`` and one folder in ``sample_runs/<name>/``;
a test fails when any of them is missing. ``registry.FRAMEWORKS`` is the table of those
modules, in this order; ``generic`` answers for a framework with no module.

The list is plain names so that the command line can offer ``--framework`` choices without
importing anything heavy.
"""

from __future__ import annotations

NAMES: tuple[str, ...] = (
    "acf",
    "loopengt",
    "harness",
    "techrevati",
    "codex",
    "gemini_cli",
    "otel",
    "claude_code",
    "langgraph",
)

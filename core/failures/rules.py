"""Deterministic rules: a framework's failure signals and texts -> one taxonomy class.

Structured signals win over text (``error_kind``, ``failure_class``, ...: each framework's
rule is in its module in ``core.frameworks``); then the text rules (``core.failure_text``)
run over the failure reason, then over the other error texts the run left
(failed steps, error events). First match wins; no LLM is involved. Every result names the
rule that decided it, so a surprising class can be traced back.

Signals that describe *how to go on* rather than *why it failed* do not decide a class:
ACF ``retry_strategy``/``executor_hint``, techrevati ``recovery_outcome``, harness
``replan_count``. They stay in ``FailureInfo.signals``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.failure_text import Verdict, classify_text
from core.frameworks.registry import lookup


def _first_text_match(texts: Iterable[tuple[str, str | None]]) -> Verdict | None:
    for where, text in texts:
        found = classify_text(text)
        if found:
            return Verdict(found, f"text:{found} on {where}", text)
    return None


def classify(
    framework: str,
    signals: Mapping[str, Any] | None,
    reason: str | None,
    other_texts: Iterable[tuple[str, str | None]] = (),
) -> Verdict:
    """The class of one failure. ``other_texts`` are (where, text) pairs tried after the
    reason: failed steps' errors, error events' texts, newest first."""
    signals = signals or {}
    structured = lookup(framework).failure_rule
    verdict = structured(signals, reason) if structured else None
    if verdict:
        return verdict
    generic = _is_generic_wrapper(reason)
    texts = list(other_texts) if generic else [("failure_reason", reason), *other_texts]
    found = _first_text_match(texts)
    if found:
        return found
    if generic:
        found = _first_text_match([("failure_reason", reason)])
        if found:
            return found
    return Verdict("unknown", "no rule matched")


# loopengt's parallel fan-out wraps the real cause: "Unexpected error: unhandled errors in a
# TaskGroup (1 sub-exception)"; the step's own error says what happened.
_GENERIC = re.compile(r"unhandled errors in a TaskGroup|ExceptionGroup|\d+ sub-exceptions?", re.I)


def _is_generic_wrapper(reason: str | None) -> bool:
    return bool(reason and _GENERIC.search(reason))


_TOOL = re.compile(
    r"\btool ['\"]([^'\"]+)['\"] (?:failed|raised)|tool error \(([^)]+)\)"
    r"|tool execution failed: ([\w.:-]+)",
    re.I,
)
_STEP = re.compile(r"\bstep ['\"]([^'\"]+)['\"] failed", re.I)


def tool_in(text: str | None) -> str | None:
    """The tool a failure text names (``Tool 'x' failed``, ``Tool error (x)``), if any."""
    match = _TOOL.search(text or "")
    return next((g for g in match.groups() if g), None) if match else None


def step_in(text: str | None) -> str | None:
    match = _STEP.search(text or "")
    return match.group(1) if match else None


_AGENT = re.compile(r"\bagent not found: ['\"]?([\w.:-]+)", re.I)


def agent_in(text: str | None) -> str | None:
    """The agent a failure text names as missing (loopengt ``Agent not found: x``)."""
    match = _AGENT.search(text or "")
    return match.group(1) if match else None

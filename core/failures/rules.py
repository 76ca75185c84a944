"""Deterministic rules: a framework's failure signals and texts -> one taxonomy class.

Structured signals win over text (``error_kind``, ``failure_class``, ...); then the text
rules below run over the failure reason, then over the other error texts the run left
(failed steps, error events). First match wins; no LLM is involved. Every result names the
rule that decided it, so a surprising class can be traced back.

Signals that describe *how to go on* rather than *why it failed* do not decide a class:
ACF ``retry_strategy``/``executor_hint``, techrevati ``recovery_outcome``, harness
``replan_count``. They stay in ``FailureInfo.signals``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Ordered: the first matching rule wins. A named tool failing is a tool error whatever
# its cause, but a context overflow, budget or human rejection is more specific still.
TEXT_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "human_rejected",
        re.compile(
            r"rejected by (?:a |the )?human|human[- ]rejected|tool rejected|approval (?:was )?(?:denied|rejected)"
            r"|not approved by",
            re.I,
        ),
    ),
    (
        "context_overflow",
        re.compile(
            r"context[_ ]length|maximum context|context window|context_overflow|prompt is too long"
            r"|too many tokens|token limit exceeded|input is too long",
            re.I,
        ),
    ),
    (
        "budget_exceeded",
        re.compile(
            r"budget[_ ]exceeded|budgetexceeded|over (?:the )?budget|exceeds? (?:the )?budget|spend(?:ing)? limit"
            r"|cost_usd_max|credit balance",
            re.I,
        ),
    ),
    (
        "max_steps",
        re.compile(
            r"max(?:imum)?[ _]?(?:number of )?(?:steps|iterations|turns)|maxiterations|recursion limit"
            r"|step limit",
            re.I,
        ),
    ),
    (
        "tool_error",
        re.compile(
            r"\btool ['\"(]?[\w.:-]+['\")]? (?:failed|raised|errored)|\btool (?:call |execution )?(?:failed|error)"
            r"|tool_error|tool_execution_error|tool error \(",
            re.I,
        ),
    ),
    (
        "rate_limit",
        re.compile(
            r"rate[ _-]?limit|\b429\b|too many requests|quota exceeded|insufficient_quota|ratelimiterror"
            r"|\b[TR]PM\b",
            re.I,
        ),
    ),
    (
        "llm_timeout",
        re.compile(
            r"turntimeout|llm_timeout|apitimeouterror|\b(?:llm|model|completion|chat|openai|anthropic|inference)\b"
            r"[^.;]{0,40}\b(?:timed out|timeout)",
            re.I,
        ),
    ),
    (
        "validation_error",
        re.compile(
            r"unparseable|could not parse|failed to parse|parse error|invalid json|jsondecodeerror|validation"
            r"|valueerror|typeerror|malformed (?:output|response|plan)",
            re.I,
        ),
    ),
    (
        "config_error",
        re.compile(
            r"agent not found|api key|unauthori[sz]ed|\b401\b|not configured|requires at least"
            r"|no such (?:agent|model)|model not found|unknown (?:agent|model)",
            re.I,
        ),
    ),
    (
        "policy_blocked",
        re.compile(
            r"permission denied|permissiondenied|permission_denied|guardrail|content (?:policy|filter)"
            r"|moderation|governance|prompt_rejection|\b403\b|forbidden",
            re.I,
        ),
    ),
    ("state_corruption", re.compile(r"corrupt|memory_corruption|checksum mismatch", re.I)),
    (
        "dependency_failed",
        re.compile(
            r"connection ?(?:refused|reset|error|aborted)|\b50[234]\b|service unavailable|bad gateway"
            r"|upstream|dependency|database|\block\b|timed out|timeout|\bdns\b|unreachable|\berrno\b"
            r"|circuit ?breaker|circuitopen|network",
            re.I,
        ),
    ),
    (
        "llm_error",
        re.compile(
            r"\bllm\b|model (?:error|call|request)|apierror|internalservererror|overloaded|\b500\b"
            r"|provider|completion failed",
            re.I,
        ),
    ),
    (
        "interrupted",
        re.compile(
            r"interrupted|\bkilled\b|sigkill|sigterm|keyboardinterrupt|cancell?ed|\bcrash|terminated", re.I
        ),
    ),
]

HARNESS_ERROR_KINDS = {
    "max_steps": "max_steps",
    "budget": "budget_exceeded",
    "unparseable_think": "validation_error",
}
TECHREVATI_CLASSES = {
    "llm_timeout": "llm_timeout",
    "llm_error": "llm_error",
    "tool_error": "tool_error",
    "context_overflow": "context_overflow",
    "rate_limit": "rate_limit",
    "dependency_failed": "dependency_failed",
    "memory_corruption": "state_corruption",
    "validation_error": "validation_error",
    "prompt_rejection": "policy_blocked",
    "permission_denied": "policy_blocked",
    "guardrail_violation": "policy_blocked",
    "cancelled": "interrupted",
}
TECHREVATI_SCENARIOS = {
    "llm_timeout": "llm_timeout",
    "llm_error": "llm_error",
    "tool_execution_error": "tool_error",
    "context_overflow": "context_overflow",
    "dependency_timeout": "dependency_failed",
    "memory_corruption": "state_corruption",
    "provider_failure": "dependency_failed",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    failure_class: str
    rule: str  # e.g. "text:rate_limit on failure_reason", "harness error_kind=max_steps"
    text: str | None = None  # the text the class was read from, when a text decided


def classify_text(text: str | None) -> str | None:
    """The class the text rules give ``text``, or None when none matches."""
    if not text:
        return None
    for name, pattern in TEXT_RULES:
        if pattern.search(text):
            return name
    return None


def _first_text_match(texts: Iterable[tuple[str, str | None]]) -> Verdict | None:
    for where, text in texts:
        found = classify_text(text)
        if found:
            return Verdict(found, f"text:{found} on {where}", text)
    return None


def _harness(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    kind = signals.get("error_kind")
    if kind in HARNESS_ERROR_KINDS:
        return Verdict(HARNESS_ERROR_KINDS[kind], f"harness error_kind={kind}")
    if signals.get("checkpoint_left_on_disk") and not (signals.get("error") or signals.get("aborted")):
        # A checkpoint left behind with no terminal error: the process was killed or crashed
        # (an orchestration's earlier, skipped task errors did not end it).
        return Verdict("interrupted", "harness checkpoint left on disk, no error recorded")
    return None


def _techrevati(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    if signals.get("budget_exceeded") or "budget exceeded" in (reason or "").lower():
        return Verdict("budget_exceeded", "techrevati budget_exceeded")
    if signals.get("circuit_breaker") == "open":
        return Verdict("dependency_failed", "techrevati circuit_breaker=open")
    failure_class = signals.get("failure_class")
    if failure_class == "governance_breach":
        by_text = classify_text(reason)
        found = by_text if by_text in ("max_steps", "budget_exceeded") else "policy_blocked"
        return Verdict(found, "techrevati failure_class=governance_breach")
    if failure_class in TECHREVATI_CLASSES:
        return Verdict(TECHREVATI_CLASSES[failure_class], f"techrevati failure_class={failure_class}")
    scenario = signals.get("scenario")
    if scenario in TECHREVATI_SCENARIOS:
        return Verdict(TECHREVATI_SCENARIOS[scenario], f"techrevati scenario={scenario}")
    return None


def _loopengt(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    if signals.get("status") == "cancelled":
        return Verdict("interrupted", "loopengt status=cancelled")
    return None


STRUCTURED_RULES = {"harness": _harness, "techrevati": _techrevati, "loopengt": _loopengt}


def classify(
    framework: str,
    signals: Mapping[str, Any] | None,
    reason: str | None,
    other_texts: Iterable[tuple[str, str | None]] = (),
) -> Verdict:
    """The class of one failure. ``other_texts`` are (where, text) pairs tried after the
    reason: failed steps' errors, error events' texts, newest first."""
    signals = signals or {}
    structured = STRUCTURED_RULES.get(framework)
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

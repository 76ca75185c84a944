"""The text rules of the one failure taxonomy, and the verdict every rule gives.

Below ``core.failures`` and ``core.frameworks``: a framework's structured rule (in its
module in ``core.frameworks``) may read a text too, and ``core.failures.rules`` runs the
framework rules before these. First match wins; no LLM is involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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


# A framework's structured rule: its failure signals and the failure reason -> a verdict,
# or None to leave the class to the text rules.
FailureRule = Callable[[Mapping[str, Any], str | None], Verdict | None]

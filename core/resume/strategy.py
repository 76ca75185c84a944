"""Default retry strategy and executor hint from why the run stopped.

The failure class comes from the shared taxonomy (``core.failures``) when it is available,
else from a small local reading of the run's failure signals and text.
"""

from __future__ import annotations

import re
from typing import Any

# What the next executor should do about each failure class.
STRATEGY_BY_CLASS: dict[str, str] = {
    "rate_limit": "resume",  # transient: wait and go on from where it stopped
    "llm_timeout": "resume",
    "llm_error": "resume",
    "tool_error": "resume",
    "dependency_failed": "resume",
    "crashed": "resume",
    "interrupted": "resume",
    "cancelled": "resume",
    "unknown": "resume",
    "context_overflow": "restart",  # the state itself is the problem
    "validation_error": "restart",
    "memory_corruption": "restart",
    "state_corruption": "restart",
    "human_rejected": "escalate",  # a person said no: someone else decides
    "budget_exceeded": "escalate",
    "max_steps": "escalate",
    "permission_denied": "escalate",
    "guardrail_violation": "escalate",
    "governance_breach": "escalate",
    "prompt_rejection": "escalate",
    "policy_blocked": "escalate",
    "config_error": "escalate",  # the setup must be fixed by someone first
}

# Framework signal values (harness error_kind, techrevati failure_class, ...) -> class.
SIGNAL_CLASSES = {
    "max_steps": "max_steps",
    "budget": "budget_exceeded",
    "unparseable_think": "validation_error",
    "crash": "crashed",
    "killed": "crashed",
    "interrupted": "interrupted",
}

TEXT_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("rate_limit", re.compile(r"rate.?limit|\b429\b|too many requests", re.I)),
    ("context_overflow", re.compile(r"context.?length|maximum context|context window|token limit", re.I)),
    ("budget_exceeded", re.compile(r"budget exceeded|cost budget|over budget", re.I)),
    ("max_steps", re.compile(r"max(imum)?[ _]?(steps|turns|iterations)", re.I)),
    ("human_rejected", re.compile(r"rejected by (a )?human|human[ _]rejected|approval (was )?denied", re.I)),
    ("validation_error", re.compile(r"unparseable|validation|invalid|schema|agent not found", re.I)),
    ("llm_timeout", re.compile(r"timed? ?out|timeout", re.I)),
    ("permission_denied", re.compile(r"permission denied|forbidden|unauthori[sz]ed|\b40[13]\b", re.I)),
    ("tool_error", re.compile(r"\btool\b.*\b(failed|error)", re.I)),
    ("crashed", re.compile(r"crash|killed|interrupted|sigkill", re.I)),
]


def _shared_taxonomy(run: dict[str, Any], reason: str | None) -> str | None:
    """``core.failures.classify`` (the shared taxonomy); an error there falls back to the
    local reading rather than failing an export."""
    try:
        from core.failures import classify
    except ImportError:
        return None
    try:
        verdict = classify(str(run.get("framework") or ""), run.get("failure_signals") or {}, reason)
    except Exception:
        return None
    value = getattr(verdict, "failure_class", verdict)
    return value if isinstance(value, str) and value else None


def _local(run: dict[str, Any], reason: str | None) -> str | None:
    signals = run.get("failure_signals") or {}
    for key in ("failure_class", "error_kind", "class", "kind"):
        value = signals.get(key) if isinstance(signals, dict) else None
        if isinstance(value, str) and value:
            return SIGNAL_CLASSES.get(value, value if value in STRATEGY_BY_CLASS else None) or None
    text = " ".join(str(v) for v in (reason, run.get("failure_reason")) if v)
    for name, pattern in TEXT_RULES:
        if pattern.search(text):
            return name
    return "unknown" if text or run.get("status") == "failed" else None


def failure_class(run: dict[str, Any], reason: str | None) -> str | None:
    """The run's failure class, or ``None`` when nothing failed or stopped with a reason."""
    stored = run.get("failure_class")
    if isinstance(stored, str) and stored:
        return stored
    if run.get("status") != "failed" and not reason:
        return None
    return _shared_taxonomy(run, reason) or _local(run, reason)


def default_strategy(failure: str | None) -> str:
    return STRATEGY_BY_CLASS.get(failure or "unknown", "resume")


def default_hint(strategy: str, same_agent: bool) -> str:
    """Resume by the same agent stays with it; anything else goes to whoever can take it."""
    return "same" if strategy == "resume" and same_agent else "any"

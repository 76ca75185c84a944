"""techrevati-runtime: its core knowledge in one place.

* failure rules: ``budget_exceeded``, an open circuit breaker, its own ``failure_class``
  (``CLASSES``; a governance breach is a policy block unless its text says steps or budget)
  and its chaos ``scenario`` (``SCENARIOS``) decide; ``recovery_outcome`` says how to go on,
  not why it failed, and decides nothing;
* usable for resume: any checkpoint that is not failed (the mapper reads its state);
* resume mapper ``core.resume.mappers.techrevati``; native form: none;
* cost: ``input_tokens`` is *uncached* input; cache reads and writes are separate counts
  (its own formula prices the three and adds them) -> input EXCLUDES cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.failure_text import Verdict, classify_text
from core.frameworks.parts import NativeForm
from core.resume.mappers.techrevati import map_techrevati

NAME = "techrevati"

CLASSES = {
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
SCENARIOS = {
    "llm_timeout": "llm_timeout",
    "llm_error": "llm_error",
    "tool_execution_error": "tool_error",
    "context_overflow": "context_overflow",
    "dependency_timeout": "dependency_failed",
    "memory_corruption": "state_corruption",
    "provider_failure": "dependency_failed",
}


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    if signals.get("budget_exceeded") or "budget exceeded" in (reason or "").lower():
        return Verdict("budget_exceeded", "techrevati budget_exceeded")
    if signals.get("circuit_breaker") == "open":
        return Verdict("dependency_failed", "techrevati circuit_breaker=open")
    failure_class = signals.get("failure_class")
    if failure_class == "governance_breach":
        by_text = classify_text(reason)
        found = by_text if by_text in ("max_steps", "budget_exceeded") else "policy_blocked"
        return Verdict(found, "techrevati failure_class=governance_breach")
    if failure_class in CLASSES:
        return Verdict(CLASSES[failure_class], f"techrevati failure_class={failure_class}")
    scenario = signals.get("scenario")
    if scenario in SCENARIOS:
        return Verdict(SCENARIOS[scenario], f"techrevati scenario={scenario}")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    return True


map_checkpoint = map_techrevati
native_form: NativeForm | None = None


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return False

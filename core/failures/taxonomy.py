"""The one failure taxonomy shared by every framework.

Each class names *what went wrong*, not which framework said so. The original text and
the framework's own signals are always kept next to the class (``FailureInfo.reason`` and
``FailureInfo.signals``).
"""

from __future__ import annotations

CLASSES: dict[str, str] = {
    "llm_error": "The model call failed (provider error, 5xx from the model API, bad model response "
    "that is not a parse problem).",
    "llm_timeout": "The model call did not answer in time.",
    "rate_limit": "The provider refused the call for rate or quota reasons (HTTP 429, TPM/RPM limits).",
    "tool_error": "A tool the agent called failed (whatever the tool's own cause: a named tool failing "
    "with a timeout or a refused connection is still a tool error).",
    "context_overflow": "The prompt exceeded the model's context window.",
    "budget_exceeded": "A cost, token or time budget set on the run was exceeded.",
    "max_steps": "The agent hit its step/iteration/turn limit before finishing.",
    "validation_error": "Model output or an input could not be parsed or failed validation "
    "(unparseable ReAct JSON, invalid plan, ValueError/TypeError).",
    "human_rejected": "A human reviewer rejected an action or the result.",
    "dependency_failed": "Something the run depends on failed or did not answer: a database, a web "
    "service, an upstream task, a connection (including non-model timeouts such as a lock wait and "
    "an open circuit breaker).",
    "interrupted": "The process stopped without a failure of its own: killed, crashed, cancelled; "
    "the last checkpoint on disk is all that is left.",
    "config_error": "The run was set up wrongly: an agent that does not exist, a missing API key, "
    "an invalid loop pattern, unauthorized credentials. (extension)",
    "policy_blocked": "A permission rule, guardrail, governance limit or content policy refused the "
    "action. (extension)",
    "state_corruption": "The agent's own memory or saved state was corrupt or unreadable. (extension)",
    "unknown": "The run failed but no rule recognised why; the original text is kept.",
}

"""What the user chose for one export, checked once here for every surface (CLI, dashboard)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.errors import UserError
from core.resume.trim import DEFAULT_MAX_BYTES

FORMATS = (
    "acf",
    "native",
    "prompt",
    "harness",
    "loopengt",
    "codex",
    "gemini_cli",
    "claude_code",
    "langgraph",
)
RETRY_STRATEGIES = ("resume", "restart", "escalate")
MIN_MAX_BYTES = 4096


def check_executor_hint(hint: str) -> str:
    """ACF accepts exactly ``same``, ``any`` or a string starting with ``capability:``."""
    if hint in ("same", "any") or (hint.startswith("capability:") and len(hint) > len("capability:")):
        return hint
    raise UserError(f"executor hint {hint!r} must be 'same', 'any' or 'capability:<name>'")


@dataclass(frozen=True)
class ExportOptions:
    format: str = "acf"
    agent_id: str | None = None  # who continues; default: the agent of the source checkpoint
    retry_strategy: str | None = None  # default: from the failure class
    executor_hint: str | None = None  # default: from the strategy
    redact: bool = True
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise UserError(f"format {self.format!r} must be one of {', '.join(FORMATS)}")
        if self.retry_strategy is not None and self.retry_strategy not in RETRY_STRATEGIES:
            raise UserError(
                f"retry strategy {self.retry_strategy!r} must be one of {', '.join(RETRY_STRATEGIES)}"
            )
        if self.executor_hint is not None:
            check_executor_hint(self.executor_hint)
        if self.agent_id is not None and not self.agent_id.strip():
            raise UserError("agent id must not be empty")
        if self.max_bytes < MIN_MAX_BYTES:
            raise UserError(f"max bytes {self.max_bytes} is too small (at least {MIN_MAX_BYTES})")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

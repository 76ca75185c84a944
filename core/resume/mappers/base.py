"""What every framework mapper returns: the source checkpoint in the resume document's terms."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.errors import UserError


class UnmappableCheckpoint(UserError):
    """A checkpoint that cannot become a resume document; the message says why."""


@dataclass
class Mapped:
    task_summary: str | None
    completed_steps: list[str] = field(default_factory=list)
    remaining_steps: list[str] = field(default_factory=list)
    partial_output: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None
    confidence: float | None = None
    agent_id: str | None = None
    task_id: str | None = None  # the source's own task id, when it is one (ACF)
    retry_strategy: str | None = None  # what the source itself said, if anything
    executor_hint: str | None = None


def step_text(value: Any) -> str:
    """ACF steps are strings; anything else is written as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def text_or_none(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def confidence_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


def as_object(value: Any, name: str = "value") -> dict[str, Any]:
    """ACF ``partial_output``/``context_snapshot`` are objects: wrap anything else."""
    if isinstance(value, dict):
        return dict(value)
    return {} if value is None else {name: value}

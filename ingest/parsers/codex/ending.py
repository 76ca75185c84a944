"""How a Codex rollout ended, read from its tail (there is no "session ended" record).

* a ``turn_aborted`` last: ``interrupted`` (Esc/Ctrl-C) or ``replaced`` -> paused;
  ``budget_limited`` -> failed;
* an ``error`` event after the last turn started (only Extended persistence writes them) ->
  failed, its ``codex_error_info`` kept as the signal and its message as the reason;
* a turn started (``task_started``) and never completed -> failed, inferred: in the default
  rollout an API or limit error leaves no record (``codex-rs/rollout/src/policy.rs``). When
  the latest rate-limit snapshot says a limit was reached (``rate_limit_reached_type`` or a
  window at 100 %), the failure is that limit, with its reset time;
* otherwise a last turn that completed -> completed, inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class Ending:
    status: str | None = None
    reason: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    inferred: bool = False


def _reset_time(window: dict[str, Any]) -> str | None:
    resets = window.get("resets_at")
    if isinstance(resets, int | float) and not isinstance(resets, bool) and 0 < resets < 1e11:
        return datetime.fromtimestamp(resets, UTC).isoformat().replace("+00:00", "Z")
    return None


def limit_reached(rate_limits: Any) -> dict[str, Any] | None:
    """The signals of a rate-limit snapshot that says a limit was reached, else None."""
    if not isinstance(rate_limits, dict):
        return None
    reached = rate_limits.get("rate_limit_reached_type")
    for name in ("primary", "secondary"):
        window = rate_limits.get(name)
        if not isinstance(window, dict):
            continue
        used = window.get("used_percent")
        if reached or (isinstance(used, int | float) and used >= 100):
            signals: dict[str, Any] = {
                "rate_limit_reached_type": reached or "rate_limit_reached",
                "window": name,
            }
            if isinstance(window.get("window_minutes"), int):
                signals["window_minutes"] = window["window_minutes"]
            if _reset_time(window):
                signals["resets_at"] = _reset_time(window)
            return signals
    return None


class EndingTracker:
    """Fed the turn events in file order; ``ending()`` says how the part read ended."""

    def __init__(self) -> None:
        self.state: str | None = None  # started | completed | aborted | error
        self.aborted: str | None = None
        self.error: dict[str, Any] | None = None
        self.limit: dict[str, Any] | None = None

    def started(self) -> None:
        self.state, self.error, self.limit, self.aborted = "started", None, None, None

    def completed(self) -> None:
        self.state, self.error, self.limit = "completed", None, None

    def aborted_turn(self, reason: str) -> None:
        self.state, self.aborted = "aborted", reason

    def errored(self, payload: dict[str, Any]) -> None:
        self.state, self.error = "error", payload

    def rate_limits(self, rate_limits: Any) -> None:
        reached = limit_reached(rate_limits)
        if reached is not None or self.state == "started":
            self.limit = reached

    def ending(self) -> Ending:
        if self.state == "completed":
            return Ending("completed", inferred=True)
        if self.state == "aborted":
            reason = self.aborted or "unknown"
            status = "failed" if reason == "budget_limited" else "paused"
            return Ending(status, f"turn aborted: {reason}", {"turn_aborted": reason})
        if self.state == "error" and self.error is not None:
            info = self.error.get("codex_error_info")
            kind = next(iter(info), None) if isinstance(info, dict) else info
            signals = {"codex_error_info": kind} if isinstance(kind, str) else {}
            if self.limit:
                signals.update(self.limit)
            message = self.error.get("message")
            return Ending("failed", message if isinstance(message, str) else "error", signals)
        if self.state == "started":
            if self.limit:
                text = f"rate limit reached ({self.limit['rate_limit_reached_type']}, {self.limit['window']} window)"
                if "resets_at" in self.limit:
                    text += f"; resets at {self.limit['resets_at']}"
                return Ending("failed", text, dict(self.limit), inferred=True)
            reason = "turn started and never completed (no task_complete or turn_aborted)"
            return Ending("failed", reason, {"turn_incomplete": True}, inferred=True)
        return Ending()

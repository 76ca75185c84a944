"""Codex ``token_count`` events -> the usage of each model response, counted once.

``info.total_token_usage`` is cumulative for the thread and ``info.last_token_usage`` the
latest response (``codex-rs/protocol/src/protocol.rs`` ``TokenUsage``). Three traps
(shared/formats/coding_agent_sessions.md §2.7-2.8):

* the same cumulative totals are written again and again (``pinouchon/rtchess``
  0.60.1 session): a response counts only when the totals changed;
* the totals fall back after a resume (12 418 394 -> 194 558): a fall starts a new segment,
  whose responses are counted from there (summing ``last_*`` does both);
* a fork or spawned subagent file replays its parent's events first: those only set the
  baseline (the caller says which are replay).

Legacy lines without ``last_token_usage`` are counted as the difference of the totals
(the whole total after a fall). ``cached_input_tokens`` is part of ``input_tokens`` and
``reasoning_output_tokens`` part of ``output_tokens`` (OpenAI's convention), kept as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def usage_of(value: Any) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    usage = {name: _count(value.get(name)) for name in FIELDS}
    if not isinstance(value.get("total_tokens"), int):  # legacy: input + output, never + reasoning
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return usage


@dataclass(slots=True)
class Counted:
    usage: dict[str, int]  # this response's tokens
    total: dict[str, int]  # the thread's totals after it
    key: str  # identity of the totals: the same totals seen again are the same response
    segment_start: bool  # the totals fell (a resume restarted the counter)


class TokenCounter:
    """Feed every ``token_count`` payload in file order; ``feed`` returns what to count."""

    def __init__(self) -> None:
        self.previous: dict[str, int] | None = None

    def feed(self, info: Any, replay: bool = False) -> Counted | None:
        if not isinstance(info, dict):
            return None  # info:null carries rate limits only
        total = usage_of(info.get("total_token_usage"))
        last = usage_of(info.get("last_token_usage"))
        if total is None:
            return None
        previous, self.previous = self.previous, total
        if previous == total or replay:
            return None
        fell = previous is not None and total["total_tokens"] < previous["total_tokens"]
        if last is None:
            base = previous if previous is not None and not fell else dict.fromkeys(FIELDS, 0)
            last = {name: max(total[name] - base[name], 0) for name in FIELDS}
        key = "tokens:" + ":".join(str(total[name]) for name in FIELDS)
        return Counted(last, total, key, fell)

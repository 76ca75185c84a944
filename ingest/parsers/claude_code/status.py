"""Why a Claude Code session stopped, read from its last lines (there is no "ended" record).

* an API error message (``isApiErrorMessage``) or usage-limit notice at the end: ``failed``,
  with its ``error`` kind, HTTP status and the reset time of a limit when the text gives one;
* a user interrupt at the end: ``paused``;
* an assistant turn that ended (``end_turn``, or text with no tool call pending): ``completed``;
* anything else (a tool call without its result, a prompt without an answer): ``unknown``.
All of these are inferred, and the original text is kept as the failure reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.timeutil import parse_timestamp
from ingest.parsers.claude_code.lines import blocks, is_interrupt, text_of

OLD_LIMIT = re.compile(r"Claude AI usage limit reached\|(\d{9,11})")
NEW_LIMIT = re.compile(
    r"(?:hit your|usage limit|limit reached).*?resets?\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*([ap]m)?\s*(?:\(([^)]+)\))?",
    re.I,
)
STATUS = re.compile(r"API Error:\s*(\d{3})")


def reset_time(text: str, at: datetime | None) -> str | None:
    """When a usage limit resets, as ISO UTC, from an old ``...|<epoch>`` or a new
    ``resets 7:30pm (Europe/Paris)`` text (the next such time after the message)."""
    old = OLD_LIMIT.search(text)
    if old:
        return datetime.fromtimestamp(int(old.group(1)), UTC).isoformat()
    new = NEW_LIMIT.search(text)
    if not new or at is None:
        return None
    hour, minute = int(new.group(1)) % 12 if new.group(3) else int(new.group(1)), int(new.group(2) or 0)
    if (new.group(3) or "").lower() == "pm":
        hour += 12
    try:
        zone = ZoneInfo(new.group(4).strip()) if new.group(4) else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    if hour > 23 or minute > 59:
        return None
    local = at.astimezone(zone)
    reset = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if reset <= local:
        reset += timedelta(days=1)
    return reset.astimezone(UTC).isoformat()


def _limit_text(text: str) -> bool:
    return bool(OLD_LIMIT.search(text) or NEW_LIMIT.search(text))


def session_status(last: dict[str, Any] | None) -> tuple[str, str | None, dict[str, Any]]:
    """(status, failure reason, failure signals) from the last user or assistant line of
    the main chain."""
    if last is None:
        return "unknown", None, {}
    message = last.get("message") if isinstance(last.get("message"), dict) else {}
    text = text_of(message.get("content")) or ""
    at = parse_timestamp(last.get("timestamp"))
    if last.get("type") == "assistant" and (last.get("isApiErrorMessage") or _limit_text(text)):
        signals: dict[str, Any] = {"api_error": True}
        kind = last.get("error")
        if isinstance(kind, str):
            signals["error"] = kind
        status = last.get("apiErrorStatus")
        code = status if isinstance(status, int) else None
        found = STATUS.search(text)
        if code is None and found:
            code = int(found.group(1))
        if code is not None:
            signals["api_error_status"] = code
        if _limit_text(text):
            signals["usage_limit"] = True
            reset = reset_time(text, at)
            if reset:
                signals["resets_at"] = reset
        return "failed", text or str(kind or "API error"), signals
    if is_interrupt(last):
        return "paused", None, {}
    # A line still streaming has ``stop_reason`` null; a version without the key ends on text.
    stop = message.get("stop_reason", "" if text and not blocks(message, "tool_use") else None)
    ended = stop in ("end_turn", "stop_sequence", "")
    if last.get("type") == "assistant" and ended:
        return "completed", None, {}
    return "unknown", None, {}

"""What one Claude Code transcript line says: its text, its usage, its kind of prompt.

Every field is optional and every ``type`` open (``shared/formats/coding_agent_sessions.md``
§1.2-1.5): these helpers never raise on a shape they do not expect, they answer None.
"""

from __future__ import annotations

from typing import Any

# Line types whose content Baton reads; every other type is kept raw as a custom event.
MESSAGE_TYPES = frozenset({"user", "assistant", "system"})
# Known types with nothing Baton needs (usage echoed in progress lines is never counted).
QUIET_TYPES = frozenset(
    {
        "progress",
        "file-history-snapshot",
        "queue-operation",
        "attachment",
        "custom-title",
        "ai-title",
        "agent-name",
        "agent-setting",
        "permission-mode",
        "mode",
        "last-prompt",
        "pr-link",
        "bridge-session",
        "summary",
        "tag",
    }
)
QUIET_SUBTYPES = frozenset(
    {
        "turn_duration",
        "stop_hook_summary",
        "local_command",
        "away_summary",
        "informational",
        "bridge_status",
        None,
    }
)
INTERRUPT = "[Request interrupted by user"
SYNTHETIC = "<synthetic>"
PREVIEW = 500


def text_of(content: Any) -> str | None:
    """The text of a message's content: a string, or its text blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        texts = [p for p in parts if isinstance(p, str)]
        return "\n".join(texts) if texts else None
    return None


def blocks(message: Any, kind: str) -> list[dict[str, Any]]:
    """The content blocks of one type (``tool_use``, ``tool_result``) of a message."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind]


def prompt_text(line: dict[str, Any]) -> str | None:
    """The text a person typed, for a user line that is a prompt (not a tool result, a
    compaction summary, a meta line or an interrupt notice), else None."""
    if line.get("isMeta") or line.get("isCompactSummary") or line.get("isVisibleInTranscriptOnly"):
        return None
    message = line.get("message")
    if not isinstance(message, dict) or blocks(message, "tool_result"):
        return None
    text = text_of(message.get("content"))
    if not text or not text.strip() or text.startswith(INTERRUPT):
        return None
    return text


def is_interrupt(line: dict[str, Any]) -> bool:
    message = line.get("message")
    if not isinstance(message, dict):
        return False
    text = text_of(message.get("content"))
    if text and text.startswith(INTERRUPT):
        return True
    return any(
        isinstance(b.get("content"), str) and b["content"].startswith(INTERRUPT)
        for b in blocks(message, "tool_result")
    )


def number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage_of(message: dict[str, Any]) -> tuple[int | None, int | None, int | None, int | None, Any]:
    """(input, output, cache read, cache write, cache lifetime) of an assistant message.

    ``input_tokens`` is the uncached input; cache writes are the nested ``cache_creation``
    sum when it is there (the scalar read 0 in some versions), and the lifetime is ``"5m"``
    or ``"1h"`` when every write had it, ``{"5m": n, "1h": m}`` when both did, None when
    only the scalar is known (priced at the 5-minute rate)."""
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None, None, None, None, None
    write = number(usage.get("cache_creation_input_tokens"))
    ttl: Any = None
    nested = usage.get("cache_creation")
    if isinstance(nested, dict):
        five = number(nested.get("ephemeral_5m_input_tokens")) or 0
        hour = number(nested.get("ephemeral_1h_input_tokens")) or 0
        if five or hour:
            write = five + hour
            ttl = "1h" if not five else "5m" if not hour else {"5m": five, "1h": hour}
    return (
        number(usage.get("input_tokens")),
        number(usage.get("output_tokens")),
        number(usage.get("cache_read_input_tokens")),
        write,
        ttl,
    )


def usage_size(usage: tuple[Any, ...]) -> int:
    """How much a streamed copy of a response reports (the largest copy is the response's),
    from its ``usage_of``."""
    inp, out, read, write = usage[0] or 0, usage[1] or 0, usage[2] or 0, usage[3] or 0
    return inp + out + read + write


def preview(value: Any) -> str | None:
    """A short text of a tool result's content (the whole stays in the transcript)."""
    text = value if isinstance(value, str) else text_of(value)
    if text is None:
        return None
    return text if len(text) <= PREVIEW else text[:PREVIEW] + "..."


def brief_input(value: Any) -> Any:
    """A tool call's input with long texts cut to ``PREVIEW`` characters (a Write's file
    content, an Edit's strings): the names, paths and commands stay whole; the whole input
    stays in the transcript."""
    if not isinstance(value, dict):
        return value
    return {
        key: item[:PREVIEW] + f"...({len(item)} chars)"
        if isinstance(item, str) and len(item) > PREVIEW
        else item
        for key, item in value.items()
    }

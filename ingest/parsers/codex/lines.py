"""Codex rollout lines that become events without needing the thread's state: tool calls
and their results (joined by ``call_id``), and the texts of prompts and replies."""

from __future__ import annotations

import re
from typing import Any

import orjson

TOOL_CALLS = {"function_call", "custom_tool_call", "local_shell_call", "web_search_call", "tool_search_call"}
TOOL_OUTPUTS = {"function_call_output", "custom_tool_call_output", "tool_search_output"}
_EXIT = re.compile(r"^(?:Exit code|Process exited with code):? (-?\d+)", re.M)


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def tool_name(payload: dict[str, Any]) -> str:
    name = text(payload.get("name"))
    if name:
        return name
    kind = str(payload.get("type"))
    return {"local_shell_call": "shell", "web_search_call": "web_search"}.get(kind, kind)


def tool_error(payload: dict[str, Any]) -> str | None:
    """The error of a tool result: a failed status, ``success: false`` or a non-zero exit
    code (in the JSON ``metadata`` of older builds or the ``Exit code: N`` text of newer ones)."""
    output = payload.get("output")
    if isinstance(output, dict):
        body: Any = output
    elif isinstance(output, str) and output.startswith("{"):
        try:
            body = orjson.loads(output)
        except orjson.JSONDecodeError:
            body = output
    else:
        body = output
    if isinstance(body, dict):
        if body.get("success") is False:
            return text(body.get("content")) or text(body.get("output")) or "tool failed (success: false)"
        metadata = body.get("metadata")
        code = metadata.get("exit_code") if isinstance(metadata, dict) else None
        if isinstance(code, int) and code != 0:
            return f"exit code {code}: {(text(body.get('output')) or '')[:500]}".rstrip(": ")
        return None
    if isinstance(body, str):
        match = _EXIT.search(body[:2000])
        if match and int(match.group(1)) != 0:
            return f"exit code {match.group(1)}: {body[:500]}"
    if payload.get("status") in ("failed", "error"):
        return f"tool status {payload['status']}"
    return None


def arguments(payload: dict[str, Any]) -> Any:
    """A call's arguments: the JSON string decoded when it is JSON, else as given."""
    raw = payload.get("arguments", payload.get("input", payload.get("action")))
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    return raw


def message_text(payload: dict[str, Any]) -> str | None:
    """The text of an ``event_msg`` ``user_message``/``agent_message`` (``message``)."""
    return text(payload.get("message"))

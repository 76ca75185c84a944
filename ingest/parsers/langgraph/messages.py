"""LangChain messages inside decoded LangGraph values, in either stored form: msgpack ext 5
(``{"__lg__": "langchain_core.messages.ai.AIMessage", "v": {...}}``) or LangChain's ``lc``
JSON (``{"lc": 1, "type": "constructor", "id": [..., "AIMessage"], "kwargs": {...}}``; json
rows and lgcs 1.0 ``metadata.writes``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_TYPES = {
    "AIMessage": "ai",
    "AIMessageChunk": "ai",
    "HumanMessage": "human",
    "SystemMessage": "system",
    "ToolMessage": "tool",
    "RemoveMessage": "remove",
    "ChatMessage": "chat",
    "FunctionMessage": "function",
}


@lru_cache(maxsize=256)
def _kind_of_class(cls: str) -> str | None:
    """``"langchain_core.messages.ai.AIMessage"`` -> ``"ai"`` (a file names a few classes)."""
    return _TYPES.get(cls.rsplit(".", 1)[-1])


def as_message(value: Any) -> dict[str, Any] | None:
    """The fields of a message (with ``type``), or None for anything else."""
    if not isinstance(value, dict):
        return None
    cls = value.get("__lg__")
    if isinstance(cls, str):
        fields = value.get("v")
        kind = _kind_of_class(cls)
        if kind and isinstance(fields, dict):
            return fields if fields.get("type") else {**fields, "type": kind}
        return None
    if value.get("lc") in (1, 2) and value.get("type") == "constructor" and isinstance(value.get("id"), list):
        kind = _TYPES.get(str(value["id"][-1]))
        fields = value.get("kwargs")
        if kind and isinstance(fields, dict):
            return fields if fields.get("type") else {**fields, "type": kind}
    return None


def message_items(value: Any) -> Sequence[Any]:
    """The values that may be messages in a channel value or an update (a message, a list
    of them, or a dict of state keys holding them, one level, as nodes return them), in
    order: the messages are those ``as_message`` reads. Values, not messages, so that a
    caller that met one before (decoded messages are shared between checkpoints) can skip it."""
    if isinstance(value, list):
        return value
    if as_message(value) is not None:
        return (value,)
    items: list[Any] = []
    if isinstance(value, dict) and "__lg__" not in value:
        for item in value.values():
            if as_message(item) is not None:
                items.append(item)
            elif isinstance(item, list):
                items.extend(item)
    return items


def last_message(value: Any) -> dict[str, Any] | None:
    """The last message of a value that is one message or a list of them, or None."""
    single = as_message(value)
    if single is not None or not isinstance(value, list):
        return single
    for item in reversed(value):
        message = as_message(item)
        if message is not None:
            return message
    return None


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(
            str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in content if b
        ).strip()
    return content if isinstance(content, str) else ""


def usage_of(message: dict[str, Any]) -> tuple[int | None, int | None, int | None, int | None]:
    """(input, output, cache read, cache write) of an AI message's ``usage_metadata``;
    LangChain's input count includes cache reads and writes."""
    usage = message.get("usage_metadata")
    if not isinstance(usage, dict):
        return None, None, None, None
    details = usage.get("input_token_details") if isinstance(usage.get("input_token_details"), dict) else {}
    return (
        _int(usage.get("input_tokens")),
        _int(usage.get("output_tokens")),
        _int(details.get("cache_read")),
        _int(details.get("cache_creation")),
    )


def model_of(message: dict[str, Any]) -> str | None:
    meta = message.get("response_metadata")
    if not isinstance(meta, dict):
        return None
    for key in ("model_name", "model"):
        if isinstance(meta.get(key), str) and meta[key]:
            return meta[key]
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

"""LangGraph: a checkpoint of a thread in the resume document's terms.

Done: the thread's messages so far (the checkpoint's ``messages`` channel): questions, model
replies, tool calls and their results. To do: the nodes the checkpoint scheduled
(``branch:to:<node>``), the question of an interrupt waiting for a human, a failed task to
re-run. The context holds the messages and the other channel values, never the metadata's
copied config (API keys live there).
"""

from __future__ import annotations

import json
from typing import Any

from core.resume.mappers.base import Mapped, text_or_none
from core.resume.source import ResumeSource

_ROLES = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}


def _fields(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("__lg__"), str) and isinstance(value.get("v"), dict):
        return value["v"]
    if isinstance(value, dict) and value.get("lc") in (1, 2) and isinstance(value.get("kwargs"), dict):
        return value["kwargs"]
    return None


def _text(fields: dict[str, Any]) -> str:
    content = fields.get("content")
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in content).strip()
    return content if isinstance(content, str) else ""


def thread_messages(document: Any) -> list[dict[str, Any]]:
    """The checkpoint's messages as plain ``{role, content, ...}`` dicts."""
    checkpoint = document.get("checkpoint") if isinstance(document, dict) else None
    values = checkpoint.get("channel_values") if isinstance(checkpoint, dict) else None
    raw = values.get("messages") if isinstance(values, dict) else None
    out = []
    for item in raw if isinstance(raw, list) else []:
        fields = _fields(item)
        if fields is None:
            continue
        message: dict[str, Any] = {
            "role": _ROLES.get(str(fields.get("type")), str(fields.get("type"))),
            "content": _text(fields),
        }
        for key in ("name", "id", "tool_call_id", "status"):
            if fields.get(key):
                message[key] = fields[key]
        calls = [
            {"name": c.get("name"), "args": c.get("args"), "id": c.get("id")}
            for c in fields.get("tool_calls") or []
            if isinstance(c, dict)
        ]
        if calls:
            message["tool_calls"] = calls
        out.append(message)
    return out


def scheduled_nodes(document: Any) -> list[str]:
    checkpoint = document.get("checkpoint") if isinstance(document, dict) else None
    values = checkpoint.get("channel_values") if isinstance(checkpoint, dict) else None
    if not isinstance(values, dict):
        return []
    return [str(k)[len("branch:to:") :] for k in values if str(k).startswith("branch:to:")]


def pending_interrupt(document: Any) -> Any:
    """The value an ``__interrupt__`` write of this checkpoint asks (None when none waits)."""
    writes = document.get("writes") if isinstance(document, dict) else None
    writes = writes if isinstance(writes, list) else []
    if any(isinstance(w, dict) and w.get("channel") == "__resume__" for w in writes):
        return None
    for write in writes:
        if isinstance(write, dict) and write.get("channel") == "__interrupt__":
            items = write.get("value") if isinstance(write.get("value"), list) else [write.get("value")]
            asked = [
                (i["v"].get("value") if isinstance(i, dict) and isinstance(i.get("v"), dict) else i)
                for i in items
            ]
            return asked[0] if len(asked) == 1 else asked
    return None


def _step(message: dict[str, Any]) -> str:
    if message.get("tool_calls"):
        calls = ", ".join(
            f"{c['name']}({json.dumps(c.get('args'), ensure_ascii=False, default=str)})"
            for c in message["tool_calls"]
        )
        return f"{message.get('name') or 'assistant'} called {calls}"
    if message["role"] == "tool":
        state = " (error)" if message.get("status") == "error" else ""
        return f"tool {message.get('name') or ''}{state}: {message['content'][:200]}"
    return f"{message.get('name') or message['role']}: {message['content'][:200]}"


def map_langgraph(source: ResumeSource) -> Mapped:
    doc = source.document if isinstance(source.document, dict) else {}
    cp, run = source.checkpoint, source.run
    messages = thread_messages(doc)
    question = pending_interrupt(doc)
    errors = [
        w.get("value")
        for w in doc.get("writes") or []
        if isinstance(w, dict) and w.get("channel") == "__error__"
    ]
    remaining = []
    if question is not None:
        remaining.append(f"answer the interrupt: {json.dumps(question, ensure_ascii=False, default=str)}")
    for node in scheduled_nodes(doc):
        remaining.append(f"run node {node}")
    if errors:
        remaining.append(f"re-run the failed task ({str(errors[-1])[:200]})")
    if not remaining:
        remaining.append("nothing scheduled: the graph finished at this checkpoint")
    checkpoint = doc.get("checkpoint") if isinstance(doc.get("checkpoint"), dict) else {}
    values = checkpoint.get("channel_values") if isinstance(checkpoint.get("channel_values"), dict) else {}
    state = {k: v for k, v in values.items() if k != "messages" and not str(k).startswith(("branch:", "__"))}
    first_human = next((m["content"] for m in messages if m["role"] == "user" and m["content"]), None)
    context: dict[str, Any] = {
        "thread_id": doc.get("thread_id"),
        "checkpoint_ns": doc.get("checkpoint_ns"),
        "checkpoint_id": doc.get("checkpoint_id"),
        "messages": messages,
    }
    if state:
        context["state"] = state
    if question is not None:
        context["interrupt"] = question
    return Mapped(
        task_summary=text_or_none(first_human) or text_or_none(run.get("task")),
        completed_steps=[_step(m) for m in messages if m["role"] != "user"],
        remaining_steps=remaining,
        partial_output={"last_message": messages[-1]} if messages else {},
        context=context,
        failure_reason=text_or_none(str(errors[-1])) if errors else text_or_none(cp.get("failure_reason")),
        agent_id=text_or_none(cp.get("agent_id")),
    )

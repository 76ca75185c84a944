"""What a react-agent-harness agent checkpoint says was done and what waits: tool calls read
from the assistant turns in memory, the current step's actions (0.14), and the tool call
waiting for a human (0.14 ``approve`` phase, 0.0.2 ``pending``)."""

from __future__ import annotations

import json
from typing import Any

from ingest.parsers.harness import common as hc


def step_text(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    tool = item.get("action") or item.get("tool")
    if not isinstance(tool, str):
        return None
    if tool == "finish":
        return f"finish: {hc.first_line(item.get('answer')) or ''}".rstrip(": ")
    return f"{tool} {hc.short_json(item.get('args') or {})}"


def decided_steps(doc: dict) -> list[str]:
    """Tool calls the model made in earlier steps, read from the assistant turns in memory."""
    steps: list[str] = []
    messages = doc["memory"].get("messages") if isinstance(doc.get("memory"), dict) else None
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        try:
            reply = json.loads(message.get("content")) if isinstance(message.get("content"), str) else None
        except ValueError:
            continue
        batch = (
            reply.get("actions")
            if isinstance(reply, dict) and isinstance(reply.get("actions"), list)
            else [reply]
        )
        steps.extend(text for text in map(step_text, batch) if text)
    return steps


def pending_approvals(doc: dict) -> list[dict[str, Any]]:
    """Tool calls waiting for a human: 0.0.2 ``pending``, 0.14 actions with status pending."""
    if isinstance(doc.get("pending"), dict):
        raw = doc["pending"]
        return [
            {
                "tool": raw.get("tool"),
                "args": raw.get("args"),
                "approval_id": raw.get("approval_id"),
                "step": raw.get("step"),
            }
        ]
    if doc.get("phase") != "approve":
        return []
    return [
        {
            "tool": a.get("tool"),
            "args": a.get("args"),
            "approval_id": a.get("approval_id"),
            "step": doc.get("step"),
        }
        for a in actions(doc)
        if a.get("status") == "pending"
    ]


def actions(doc: dict) -> list[dict[str, Any]]:
    actions = doc.get("actions")
    return [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []

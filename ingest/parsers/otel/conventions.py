"""What a span means under each convention: OpenTelemetry GenAI (current and deprecated
names), OpenInference and OpenLLMetry/Traceloop (facts: shared/formats, Part B.4 to B.6).

Tokens are read on model-call spans only: agent and workflow spans may carry aggregates of
their children, which would count the run twice.
"""

from __future__ import annotations

from typing import Any

import orjson

MODEL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings", "completion"})
AGENT_OPERATIONS = frozenset({"invoke_agent", "create_agent"})
TOOL_OPERATIONS = frozenset({"execute_tool"})
OPENINFERENCE_KINDS = {"LLM": "llm_call", "EMBEDDING": "llm_call", "TOOL": "tool_call", "AGENT": "agent"}
TRACELOOP_KINDS = {"tool": "tool_call", "agent": "agent", "workflow": "step", "task": "step"}

INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion")
CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "llm.token_count.prompt_details.cache_input",
)
CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
)
COST = ("gen_ai.usage.cost", "gen_ai.usage.cost_usd", "llm.cost.total", "llm.usage.cost", "gen_ai.cost.usd")
AGENT_NAMES = ("gen_ai.agent.name", "agent.name", "agent.id")
PROVIDERS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
CONVERSATION = (
    "gen_ai.conversation.id",
    "session.id",
    "traceloop.association.properties.thread_id",
    "thread_id",
)
INPUTS = (
    "run.goal",  # react-agent-harness 0.14
    "input.value",  # OpenInference
    "gen_ai.input.messages",
    "traceloop.entity.input",
    "gen_ai.prompt",
    "gen_ai.prompt.0.content",
    "llm.input_messages.0.message.content",
)
OUTPUTS = (
    "output.value",
    "gen_ai.output.messages",
    "traceloop.entity.output",
    "gen_ai.completion",
    "gen_ai.completion.0.content",
    "llm.output_messages.0.message.content",
)
UNKNOWN_MODELS = frozenset({"", "unknown", "none", "null"})


def first(attrs: dict[str, Any], names: tuple[str, ...]) -> Any:
    if attrs.keys().isdisjoint(names):  # most spans hold none of a convention's names: one C loop
        return None
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def count(attrs: dict[str, Any], names: tuple[str, ...]) -> int | None:
    value = first(attrs, names)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and value >= 0 else None


def kind_of(name: str, attrs: dict[str, Any]) -> str:
    """The event kind of a span: llm_call, tool_call, agent or step."""
    operation = attrs.get("gen_ai.operation.name")
    if operation in MODEL_OPERATIONS or attrs.get("llm.request.type") in ("chat", "completion"):
        return "llm_call"
    if operation in TOOL_OPERATIONS:
        return "tool_call"
    if operation in AGENT_OPERATIONS:
        return "agent"
    by_openinference = OPENINFERENCE_KINDS.get(attrs.get("openinference.span.kind"))  # type: ignore[arg-type]
    if by_openinference:
        return by_openinference
    by_traceloop = TRACELOOP_KINDS.get(attrs.get("traceloop.span.kind"))  # type: ignore[arg-type]
    if by_traceloop:
        return by_traceloop
    if name.startswith("task:") and "agent.id" in attrs:  # react-agent-harness 0.14 OTELHook
        return "agent"
    return "step"


def model_of(attrs: dict[str, Any]) -> str | None:
    """The model that answered; a request model "unknown" (OpenLLMetry) is no model."""
    for name in ("gen_ai.response.model", "llm.model_name", "gen_ai.request.model", "llm.request.model"):
        value = attrs.get(name)
        if isinstance(value, str) and value.strip().lower() not in UNKNOWN_MODELS:
            return value
    return None


def agent_of(name: str, kind: str, attrs: dict[str, Any]) -> str | None:
    value = first(attrs, AGENT_NAMES)
    if isinstance(value, str):
        return value
    entity = attrs.get("traceloop.entity.name")
    if kind == "agent" and isinstance(entity, str) and entity:
        return entity
    if attrs.get("openinference.span.kind") == "AGENT":  # named after the node or runnable
        return name or None
    return None


def tool_of(name: str, attrs: dict[str, Any]) -> str | None:
    value = first(attrs, ("gen_ai.tool.name", "tool.name", "traceloop.entity.name"))
    if isinstance(value, str):
        return value
    return name.removeprefix("execute_tool ").strip() or None


def _user_text(value: Any, depth: int = 0) -> str | None:
    """The user's words in a message structure: GenAI ``[{role, parts: [{content}]}]``,
    OpenAI-style ``[{role, content}]``, Traceloop ``{"inputs": ...}``, or plain text."""
    if depth > 4:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                return _user_text(orjson.loads(stripped), depth + 1) or stripped
            except orjson.JSONDecodeError:
                return stripped
        return stripped or None
    if isinstance(value, list):
        users = [m for m in value if isinstance(m, dict) and m.get("role") in ("user", "human")]
        for message in users or value:
            found = _user_text(message, depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        parts = value.get("parts")
        if isinstance(parts, list):
            texts = [
                p.get("content") for p in parts if isinstance(p, dict) and isinstance(p.get("content"), str)
            ]
            if texts:
                return " ".join(texts)
        for key in ("content", "inputs", "input", "question", "messages", "text"):
            if key in value:
                found = _user_text(value[key], depth + 1)
                if found:
                    return found
    return None


def task_text(value: Any, limit: int = 4000) -> str | None:
    """What the agent was asked, from an input attribute."""
    found = _user_text(value)
    return found[:limit] if found else None


def text_of(value: Any, limit: int = 4000) -> str | None:
    """An input or output attribute as text (message lists are kept as their JSON)."""
    if value is None:
        return None
    if not isinstance(value, str):
        import json

        value = json.dumps(value, ensure_ascii=False, default=str)
    value = value.strip()
    return value[:limit] if value else None

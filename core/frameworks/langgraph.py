"""LangGraph (langgraph-checkpoint-sqlite databases): its core knowledge in one place.

* failure rules: the exception class at the start of an ``__error__`` write's text
  (``EXCEPTIONS``), else the text rules;
* usable for resume: any checkpoint whose document names its thread and checkpoint id;
* resume mapper ``core.resume.mappers.langgraph``; native form: the Python call that
  continues the thread from that checkpoint (``core.resume.native_langgraph``);
* cost: LangChain's ``usage_metadata.input_tokens`` is "the sum of all input token types",
  cache reads and writes included, whatever the provider -> input INCLUDES cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.failure_text import Verdict
from core.frameworks.parts import NativeForm
from core.resume.mappers.langgraph import map_langgraph
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

NAME = "langgraph"

EXCEPTIONS = {
    "GraphRecursionError": "max_steps",
    "RateLimitError": "rate_limit",
    "APITimeoutError": "llm_timeout",
    "ToolException": "tool_error",
    "ValidationError": "validation_error",
    "OutputParserException": "validation_error",
    "AuthenticationError": "config_error",
    "ContextOverflowError": "context_overflow",
    "GraphInterrupt": "interrupted",
    "KeyboardInterrupt": "interrupted",
    "CancelledError": "interrupted",
}


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    exception = signals.get("exception")
    if isinstance(exception, str) and exception.rsplit(".", 1)[-1] in EXCEPTIONS:
        name = exception.rsplit(".", 1)[-1]
        return Verdict(EXCEPTIONS[name], f"langgraph __error__ {name}")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    doc = checkpoint.get("document")
    return isinstance(doc, dict) and bool(doc.get("thread_id")) and bool(doc.get("checkpoint_id"))


map_checkpoint = map_langgraph


def _build_native(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    from core.resume.native_langgraph import build_native_langgraph

    return build_native_langgraph(source, options)


native_form: NativeForm | None = NativeForm("langgraph", _build_native)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return True

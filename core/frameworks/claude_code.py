"""Claude Code: its core knowledge in one place.

* failure rules: the ``error`` kind of an API error message (``rate_limit``,
  ``authentication_failed``, ``billing_error``, ``invalid_request``, ``server_error``,
  ``max_output_tokens``), a usage-limit notice, and the HTTP status of ``API Error: <status>``;
  the rest is read from the text (``prompt is too long`` is a context overflow);
* usable for resume: any checkpoint that is not failed (a prompt or a compaction boundary);
* resume mapper: the generic one (prompt text, the run's task); native form:
  ``claude --resume <session>`` in the session's directory (``core.resume.native_claude_code``);
* cost: ``input_tokens`` is the *uncached* input, cache reads and writes are separate counts
  (Anthropic's usage) -> input EXCLUDES cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.failure_text import Verdict, classify_text
from core.frameworks.parts import NativeForm
from core.resume.mappers.generic import map_generic
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

NAME = "claude_code"

ERROR_KINDS = {
    "rate_limit": "rate_limit",
    "authentication_failed": "config_error",
    "billing_error": "budget_exceeded",
    "server_error": "llm_error",
    "max_output_tokens": "llm_error",
}


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    if signals.get("usage_limit"):
        return Verdict("rate_limit", "claude_code usage limit reached")
    kind = signals.get("error")
    if kind == "invalid_request":
        by_text = classify_text(reason)
        return Verdict(by_text or "llm_error", "claude_code error=invalid_request")
    if kind in ERROR_KINDS:
        return Verdict(ERROR_KINDS[kind], f"claude_code error={kind}")
    status = signals.get("api_error_status")
    if isinstance(status, int):
        if status == 429:
            return Verdict("rate_limit", "claude_code API error 429")
        if status in (401, 403):
            return Verdict("config_error", f"claude_code API error {status}")
        if status >= 500 and classify_text(reason) not in ("context_overflow", "rate_limit"):
            return Verdict("llm_error", f"claude_code API error {status}")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    return True


map_checkpoint = map_generic


def _build_native(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    from core.resume.native_claude_code import build_native_claude_code

    return build_native_claude_code(source, options)


native_form: NativeForm | None = NativeForm("claude_code", _build_native)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return False

"""OpenAI Codex CLI: its core knowledge in one place.

* failure rules: ``codex_error_info`` of an ``error`` event (``ERROR_INFO``), a rate-limit
  snapshot that reached its limit, and ``turn_aborted`` reasons decide; the message text is
  kept as the reason (``ingest.parsers.codex.ending``);
* usable for resume: any prompt checkpoint (Codex reopens the whole session);
* resume mapper: the generic one; native form ``codex resume <id>`` in the session's cwd
  (``core.resume.native_codex``);
* cost: ``cached_input_tokens`` is part of ``input_tokens`` and reasoning part of output
  (OpenAI's convention) -> input INCLUDES cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.failure_text import Verdict
from core.frameworks.parts import NativeForm
from core.resume.mappers.generic import map_generic
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

NAME = "codex"

# codex-rs/protocol ``CodexErrorInfo`` (snake_case in rollouts) -> the taxonomy.
ERROR_INFO = {
    "context_window_exceeded": "context_overflow",
    "usage_limit_exceeded": "rate_limit",
    "rate_limit_exceeded": "rate_limit",
    "server_overloaded": "llm_error",
    "internal_server_error": "llm_error",
    "unauthorized": "config_error",
    "bad_request": "validation_error",
    "sandbox_error": "policy_blocked",
    "http_connection_failed": "dependency_failed",
    "response_stream_connection_failed": "dependency_failed",
    "response_stream_disconnected": "dependency_failed",
    "response_too_many_failed_attempts": "llm_error",
}
ABORTS = {"interrupted": "interrupted", "replaced": "interrupted", "budget_limited": "budget_exceeded"}
CREDITS = ("credits_depleted", "workspace_owner_credits_depleted", "workspace_member_credits_depleted")


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    reached = signals.get("rate_limit_reached_type")
    if reached in CREDITS:
        return Verdict("budget_exceeded", f"codex rate_limit_reached_type={reached}")
    info = signals.get("codex_error_info")
    if info in ERROR_INFO:
        return Verdict(ERROR_INFO[info], f"codex codex_error_info={info}")
    if reached:
        return Verdict("rate_limit", f"codex rate_limit_reached_type={reached}")
    aborted = signals.get("turn_aborted")
    if aborted in ABORTS:
        return Verdict(ABORTS[aborted], f"codex turn_aborted={aborted}")
    if signals.get("turn_incomplete"):
        return Verdict("unknown", "codex turn started and never completed (no error recorded)")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    return True


map_checkpoint = map_generic


def _build_native(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    from core.resume.native_codex import build_native_codex

    return build_native_codex(source, options)


native_form: NativeForm | None = NativeForm("codex", _build_native)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return True

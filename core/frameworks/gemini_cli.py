"""Gemini CLI: its core knowledge in one place.

* failure rules: the text of the last ``error`` message decides, with Gemini API statuses
  (``RESOURCE_EXHAUSTED``, ``UNAUTHENTICATED``, billing, token limits) read first
  (``PATTERNS``), then the shared text rules; a cancelled request is an interrupt;
* usable for resume: any prompt checkpoint (Gemini reopens the whole session);
* resume mapper: the generic one; native form ``gemini --resume <id>``
  (``core.resume.native_gemini``);
* cost: ``tokens.input`` is ``promptTokenCount``, which includes ``cached`` -> input
  INCLUDES cache.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.failure_text import Verdict
from core.frameworks.parts import NativeForm
from core.resume.mappers.generic import map_generic
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

NAME = "gemini_cli"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("budget_exceeded", re.compile(r"billing|prepayment|credits? (?:are )?(?:depleted|exhausted)", re.I)),
    (
        "context_overflow",
        re.compile(r"exceeds the maximum number of tokens|input token count.*exceeds", re.I),
    ),
    ("rate_limit", re.compile(r"RESOURCE_EXHAUSTED|quota|usage limit|rate limit|\b429\b", re.I)),
    (
        "config_error",
        re.compile(r"UNAUTHENTICATED|PERMISSION_DENIED|API key not valid|\b40[13]\b|login", re.I),
    ),
    ("llm_error", re.compile(r"\b50[034]\b|INTERNAL|UNAVAILABLE|overloaded", re.I)),
]


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    if signals.get("cancelled"):
        return Verdict("interrupted", "gemini_cli request cancelled")
    if signals.get("error_message"):
        for name, pattern in PATTERNS:
            if pattern.search(reason or ""):
                return Verdict(name, f"gemini_cli error text: {pattern.pattern[:40]}", reason)
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    return True


map_checkpoint = map_generic


def _build_native(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    from core.resume.native_gemini import build_native_gemini

    return build_native_gemini(source, options)


native_form: NativeForm | None = NativeForm("gemini_cli", _build_native)


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    return True

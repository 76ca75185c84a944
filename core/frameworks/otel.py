"""OpenTelemetry traces (OTLP/JSON files, ``baton otlp`` spools): core knowledge in one place.

* failure rules: a techrevati-runtime root span's ``error.type`` is its failure class
  (``techrevati.CLASSES``); HTTP 429 is a rate limit; techrevati's ``abrupt_termination``
  (the process exited with the span open) is an interruption; anything else goes to the text
  rules, which see ``error.type``, the status message and the exception, as the parser joined
  them in the failure reason;
* usable for resume: every checkpoint (a part of a trace); the resume document is made from
  the run's spans (``RESUME_READS_EVENTS``), by ``core.resume.mappers.otel``;
* native form: none. OTel records what an agent did; it holds no state a framework could
  resume from, so only the acf document (and the handoff brief) are written;
* cost: GenAI semconv says ``gen_ai.usage.input_tokens`` SHOULD include cached tokens, and
  OpenInference's prompt count includes them as emitted -> input INCLUDES cache, except for
  Anthropic models (``claude*``), whose client's own count excludes it (``generic``'s rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.failure_text import Verdict
from core.frameworks import generic
from core.frameworks.parts import NativeForm
from core.frameworks.techrevati import CLASSES as TECHREVATI_CLASSES
from core.resume.mappers.otel import map_otel

NAME = "otel"
# The resume loader hands this framework's mapper the run's events (its spans).
RESUME_READS_EVENTS = True
NO_NATIVE_FORMAT = (
    "OpenTelemetry traces record what an agent did, not a state it can be resumed from: "
    "there is no native resume format (use the acf format)"
)


def failure_rule(signals: Mapping[str, Any], reason: str | None) -> Verdict | None:
    for key in ("techrevati.failure_class", "error.type"):
        value = signals.get(key)
        if value in TECHREVATI_CLASSES:
            return Verdict(TECHREVATI_CLASSES[value], f"otel {key}={value}")
        if value == "abrupt_termination":
            return Verdict("interrupted", f"otel {key}={value}")
    for key in ("http.response.status_code", "http.status_code", "error.type"):
        if str(signals.get(key)) == "429":
            return Verdict("rate_limit", f"otel {key}=429")
    return None


def usable_for_resume(checkpoint: dict[str, Any]) -> bool:
    return True


map_checkpoint = map_otel
native_form: NativeForm | None = None


def input_includes_cache(
    model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
) -> bool:
    # By model family, as for a framework Baton has no module for: instrumentations of
    # Anthropic's client pass its ``input_tokens`` through, which exclude cache reads and writes.
    return generic.input_includes_cache(model, cache_read_tokens, cache_write_tokens)

"""The registered formats: the one explicit list. Add a framework here (one line, in the order
of ``core.frameworks.NAMES``) and its formats in its own package's ``FORMATS``, nowhere else.

Each framework's formats live in ``ingest/parsers/<framework>/``. ``REGISTERED`` is the order
in which formats are tried (framework by framework, then each package's own order).
"""

from __future__ import annotations

from ingest.parsers import (
    acf,
    claude_code,
    codex,
    gemini_cli,
    harness,
    langgraph,
    loopengt,
    otel,
    techrevati,
)
from ingest.spec import FormatSpec

BY_FRAMEWORK: dict[str, list[FormatSpec]] = {
    "acf": acf.FORMATS,  # agent-checkpoint-framework
    "loopengt": loopengt.FORMATS,
    "harness": harness.FORMATS,  # react-agent-harness
    "techrevati": techrevati.FORMATS,  # techrevati-runtime
    "codex": codex.FORMATS,  # OpenAI Codex CLI
    "gemini_cli": gemini_cli.FORMATS,  # Gemini CLI
    "otel": otel.FORMATS,  # OpenTelemetry OTLP/JSON traces
    "claude_code": claude_code.FORMATS,
    "langgraph": langgraph.FORMATS,  # langgraph-checkpoint-sqlite
}

REGISTERED: list[FormatSpec] = [spec for formats in BY_FRAMEWORK.values() for spec in formats]

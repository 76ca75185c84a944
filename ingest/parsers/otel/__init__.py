"""OpenTelemetry (otel): OTLP/JSON trace files, whoever wrote them (an SDK, the Collector's
file exporter, ``baton otlp``'s spool)."""

from __future__ import annotations

from ingest.parsers.otel import traces
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [traces.FORMAT]

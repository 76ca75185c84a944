"""loopengt: its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.loopengt import checkpoint, run, trace, tracedb
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [run.FORMAT, checkpoint.FORMAT, trace.FORMAT, tracedb.FORMAT]

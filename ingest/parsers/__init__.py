"""The registered formats, in the order they are tried. Add a parser here and nowhere else."""

from __future__ import annotations

from ingest.parsers import (
    acf,
    acf_manifest,
    loopengt_checkpoint,
    loopengt_run,
    loopengt_trace,
    loopengt_tracedb,
)
from ingest.registry import FormatSpec

REGISTERED: list[FormatSpec] = [
    # agent-checkpoint-framework
    acf.FORMAT,
    acf_manifest.FORMAT,
    # loopengt
    loopengt_run.FORMAT,
    loopengt_checkpoint.FORMAT,
    loopengt_trace.FORMAT,
    loopengt_tracedb.FORMAT,
    # react-agent-harness
    # techrevati-runtime
]

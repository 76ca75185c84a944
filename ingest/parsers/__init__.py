"""The registered formats, in the order they are tried. Add a parser here and nowhere else."""

from __future__ import annotations

from ingest.parsers import acf, acf_manifest
from ingest.registry import FormatSpec

REGISTERED: list[FormatSpec] = [
    # agent-checkpoint-framework
    acf.FORMAT,
    acf_manifest.FORMAT,
    # loopengt
    # react-agent-harness
    # techrevati-runtime
]

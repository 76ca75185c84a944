"""agent-checkpoint-framework (acf): its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.acf import checkpoint, manifest
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [checkpoint.FORMAT, manifest.FORMAT]

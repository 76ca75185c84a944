"""The registry decides which format a file is, not the loader.

The formats and their order are the one explicit list in ``ingest/parsers`` (each
framework's package exposes ``FORMATS``). Order matters: the first format whose ``detect``
accepts a file parses it.
"""

from __future__ import annotations

import functools

from ingest.content import Content
from ingest.spec import FormatSpec


@functools.cache
def _registered() -> list[FormatSpec]:
    # Imported on first use, not at module top (no cycle: the parsers import ingest.spec, never
    # this module): importing every parser takes a tenth of a second or more, which a pass over
    # unchanged files never needs, and a fanout pass imports them just before it forks its
    # helpers (tests/ingest/test_fanout.py). Once: an import statement run per file cost about
    # 1% of a cold ingest.
    from ingest.parsers import REGISTERED

    return REGISTERED


def all_formats() -> list[FormatSpec]:
    return list(_registered())


def detect_format(content: Content) -> FormatSpec | None:
    for spec in _registered():  # called once per file: no copy of the list
        if spec.detect(content):
            return spec
    return None

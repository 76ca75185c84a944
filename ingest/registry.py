"""The one explicit list of formats Baton reads. The registry, not the loader, decides.

Each format is a module in ``ingest/parsers`` exposing ``FORMAT: FormatSpec``. Order
matters: the first format whose ``detect`` accepts a file parses it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from core.records import ParsedFile
from ingest.content import Content


@dataclass(frozen=True, slots=True)
class FormatSpec:
    name: str  # e.g. "acf.checkpoint"
    framework: str  # acf, loopengt, harness, techrevati
    description: str
    detect: Callable[[Content], bool]  # cheap: looks at kind, keys and first bytes only
    parse: Callable[[Content], ParsedFile]  # pure: raises ingest.errors.ParseError
    # True when the file only ever grows by whole lines (tail it from a byte offset).
    append_only: bool = False


@functools.cache
def _registered() -> list[FormatSpec]:
    # Imported late (parsers import this module for FormatSpec), once: an import statement
    # run per file cost about 1% of a cold ingest.
    from ingest.parsers import REGISTERED

    return REGISTERED


def all_formats() -> list[FormatSpec]:
    return list(_registered())


def detect_format(content: Content) -> FormatSpec | None:
    for spec in _registered():  # called once per file: no copy of the list
        if spec.detect(content):
            return spec
    return None

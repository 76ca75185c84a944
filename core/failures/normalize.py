"""Reasons normalized for grouping: the same failure groups together across runs.

Strips what differs between two occurrences of one failure: quoted values, uuids, hex ids,
urls, paths, e-mail addresses, numbers (with units and currency), and collapses spacing.
Deterministic and pure.
"""

from __future__ import annotations

import re

_SUBSTITUTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I), "<url>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), "<email>"),
    (re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`"), "<v>"),
    (re.compile(r"(?<![\w/])(?:~|\.{1,2})?(?:/[\w.@:+-]+){2,}/?"), "<path>"),
    (re.compile(r"\b[A-Za-z]:\\[^\s]+"), "<path>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.I), "<hex>"),
    (re.compile(r"[\w-]*\d[\w-]*(?:\.[\w-]*\d[\w-]*)*"), "<n>"),
]
_BRACKET_N = re.compile(r"\$?<n>(?:\s*(?:ms|s|sec|seconds|min|tokens|%))?")
_SPACES = re.compile(r"\s+")


def normalize_reason(reason: str | None, limit: int = 300) -> str | None:
    """``Step 'load' failed after 3 attempts: ...`` -> ``Step <v> failed after <n> attempts: ...``."""
    if reason is None:
        return None
    text = reason.strip()
    if not text:
        return None
    text = text[:2000]
    for pattern, replacement in _SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    text = _BRACKET_N.sub("<n>", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:limit]

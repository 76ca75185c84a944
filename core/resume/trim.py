"""Fit a resume document's context into a byte budget.

The next agent needs the task and the most recent work more than old turns, so trimming
drops the oldest entries of the context's message lists (never a pinned or system message,
never the first user message, which states the task), then shortens the longest strings.
Everything dropped is reported, so the reader knows the context is partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

DEFAULT_MAX_BYTES = 256 * 1024
LIST_KEYS = ("messages", "history", "transcript", "events", "observations")
SHORTENED = "…[trimmed {n} bytes]"


@dataclass
class TrimReport:
    max_bytes: int
    bytes_before: int = 0
    bytes_after: int = 0
    dropped: list[dict[str, Any]] = field(default_factory=list)
    shortened: list[str] = field(default_factory=list)

    @property
    def trimmed(self) -> bool:
        return bool(self.dropped or self.shortened)

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_bytes": self.max_bytes,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "trimmed": self.trimmed,
            "dropped": self.dropped,
            "shortened": self.shortened,
            "over_budget": self.bytes_after > self.max_bytes,
        }


def size_of(value: Any) -> int:
    return len(orjson.dumps(value, default=str))


def _protected(item: Any, index: int, first_user: int | None) -> bool:
    if not isinstance(item, dict):
        return False
    return bool(item.get("pinned")) or item.get("role") == "system" or index == first_user


def _lists(
    context: dict[str, Any], path: str = "$.context_snapshot", list_keys: tuple[str, ...] = LIST_KEYS
) -> list[tuple[str, list[Any]]]:
    """Message-like lists in the context, one level deep (``messages``, ``history``, ...)."""
    found: list[tuple[str, list[Any]]] = []
    for key, value in context.items():
        if key in list_keys and isinstance(value, list):
            found.append((f"{path}.{key}", value))
        elif isinstance(value, dict):
            found += [
                (f"{path}.{key}.{k}", v) for k, v in value.items() if k in list_keys and isinstance(v, list)
            ]
    return found


def _drop_oldest(items: list[Any], path: str, excess: int, report: TrimReport) -> int:
    first_user = next(
        (i for i, m in enumerate(items) if isinstance(m, dict) and m.get("role") == "user"), None
    )
    keep = [True] * len(items)
    freed, dropped = 0, 0
    for index, item in enumerate(items):
        if freed >= excess:
            break
        if _protected(item, index, first_user):
            continue
        keep[index] = False
        freed += size_of(item) + 1
        dropped += 1
    if dropped:
        items[:] = [item for item, kept in zip(items, keep, strict=True) if kept]
        report.dropped.append(
            {
                "path": path,
                "count": dropped,
                "bytes": freed,
                "kept": len(items),
                "note": f"dropped the {dropped} oldest entries",
            }
        )
    return freed


def _longest_strings(value: Any, path: str, out: list[tuple[int, str, Any, Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                out.append((len(item.encode()), f"{path}.{key}", value, key))
            else:
                _longest_strings(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                out.append((len(item.encode()), f"{path}[{index}]", value, index))
            else:
                _longest_strings(item, f"{path}[{index}]", out)


def trim_document(
    document: dict[str, Any],
    max_bytes: int = DEFAULT_MAX_BYTES,
    reserve: int = 0,
    context_key: str = "context_snapshot",
    list_keys: tuple[str, ...] = LIST_KEYS,
) -> TrimReport:
    """Trim ``document[context_key]`` (and then ``partial_output``) in place until the whole
    document, plus ``reserve`` bytes for notes added later, fits ``max_bytes``. The lists
    named in ``list_keys`` lose their oldest entries first, in the order the context holds
    them."""
    report = TrimReport(max_bytes=max_bytes, bytes_before=size_of(document))
    budget = max_bytes - reserve
    context = document.get(context_key)
    if isinstance(context, dict):
        for path, items in _lists(context, f"$.{context_key}", list_keys):
            excess = size_of(document) - budget
            if excess <= 0:
                break
            _drop_oldest(items, path, excess, report)
    for key in (context_key, "partial_output"):
        part = document.get(key)
        if not isinstance(part, dict | list):
            continue
        candidates: list[tuple[int, str, Any, Any]] = []
        _longest_strings(part, f"$.{key}", candidates)
        for length, path, parent, slot in sorted(candidates, key=lambda c: -c[0]):
            excess = size_of(document) - budget
            if excess <= 0 or length < 256:
                break
            keep = max(128, length - excess - 64)
            text = parent[slot]
            cut = text.encode()[:keep].decode(errors="ignore")
            parent[slot] = cut + SHORTENED.format(n=length - len(cut.encode()))
            report.shortened.append(path)
    report.bytes_after = size_of(document) + reserve
    return report

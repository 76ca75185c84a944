"""One mapper per framework, registered here; a new parser's framework adds one line.

A framework without a mapper is exported from the normalized checkpoint fields alone.
"""

from __future__ import annotations

from collections.abc import Callable

from core.resume.mappers.acf import map_acf
from core.resume.mappers.base import Mapped, UnmappableCheckpoint
from core.resume.mappers.generic import map_generic
from core.resume.mappers.harness import map_harness
from core.resume.mappers.loopengt import map_loopengt
from core.resume.mappers.techrevati import map_techrevati
from core.resume.source import ResumeSource

MAPPERS: dict[str, Callable[[ResumeSource], Mapped]] = {
    "acf": map_acf,
    "loopengt": map_loopengt,
    "harness": map_harness,
    "techrevati": map_techrevati,
}
ALIASES = {
    "react-agent-harness": "harness",
    "agent-checkpoint-framework": "acf",
    "techrevati-runtime": "techrevati",
}


def map_source(source: ResumeSource) -> Mapped:
    mapped = MAPPERS.get(ALIASES.get(source.framework, source.framework), map_generic)(source)
    if not mapped.task_summary:
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} ({source.framework}) cannot be exported: neither the checkpoint "
            "nor its run says what the task is (the resume format needs a task summary)"
        )
    return mapped


__all__ = ["MAPPERS", "Mapped", "UnmappableCheckpoint", "map_source"]

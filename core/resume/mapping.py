"""A stored checkpoint in the resume document's terms, by its framework's mapper (through
``core.frameworks.registry``; a framework with no module is mapped from the normalized
fields alone)."""

from __future__ import annotations

from core.frameworks.registry import ALIASES, lookup
from core.resume.mappers.base import Mapped, UnmappableCheckpoint
from core.resume.source import ResumeSource


def map_source(source: ResumeSource) -> Mapped:
    mapped = lookup(ALIASES.get(source.framework, source.framework)).map_checkpoint(source)
    if not mapped.task_summary:
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} ({source.framework}) cannot be exported: neither the checkpoint "
            "nor its run says what the task is (the resume format needs a task summary)"
        )
    return mapped

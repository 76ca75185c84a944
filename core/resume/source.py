"""The stored checkpoint an export starts from: its row (with the original document) and
its run. Exports read only the database, so they work after the file is gone; the loading
is in ``core.resume.load``, so that the mappers need only this plain type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ResumeSource:
    run: dict[str, Any]
    checkpoint: dict[str, Any]  # queries.get_checkpoint(): normalized fields, document, source_path
    # The run's events in time order: for the formats that tell what was done (the handoff
    # brief, ``load.load_events``) and for frameworks whose module sets ``RESUME_READS_EVENTS``
    # (an OTel run has no state of its own: its spans are the record); ``None`` when not read.
    events: list[dict[str, Any]] | None = None

    @property
    def framework(self) -> str:
        return str(self.run.get("framework") or "unknown")

    @property
    def document(self) -> Any:
        return self.checkpoint.get("document")

"""The stored checkpoint an export starts from: its row (with the original document) and
its run. Exports read only the database, so they work after the file is gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from core import queries
from core.failures import failed_runs


@dataclass
class ResumeSource:
    run: dict[str, Any]
    checkpoint: dict[str, Any]  # queries.get_checkpoint(): normalized fields, document, source_path

    @property
    def framework(self) -> str:
        return str(self.run.get("framework") or "unknown")

    @property
    def document(self) -> Any:
        return self.checkpoint.get("document")


def load_source(engine: Engine, checkpoint_ref: str) -> ResumeSource:
    """``checkpoint_ref``: an id as ``baton show`` prints it, a native id, or a prefix."""
    checkpoint_id = queries.resolve_checkpoint_id(engine, checkpoint_ref)
    checkpoint = queries.get_checkpoint(engine, checkpoint_id)
    run = queries.get_run(engine, checkpoint["run_id"])
    # The same class `baton failures` shows: the analysis sees the run's events and failing
    # checkpoint, which a checkpoint exported from before the failure does not carry.
    (info,) = failed_runs(engine, [run["id"]]) or (None,)
    if info is not None:
        run["failure_class"] = info.failure_class
    return ResumeSource(run=run, checkpoint=checkpoint)

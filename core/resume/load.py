"""Read the checkpoint an export starts from, with its run and its failure class."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from core import queries
from core.failures import failed_runs
from core.resume.source import ResumeSource


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

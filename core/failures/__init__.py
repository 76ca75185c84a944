"""One failure taxonomy across frameworks (see ``taxonomy.CLASSES``).

Public API:

* ``CLASSES`` – class name -> what it means;
* ``classify(framework, signals, reason, other_texts)`` -> ``Verdict`` (pure rules);
* ``classify_text(text)`` -> class or None; ``normalize_reason(text)`` -> grouping key;
* ``analyze_run(run, checkpoints, events)`` -> ``FailureInfo`` (pure, per run);
* ``failed_runs(engine, run_ids=None)`` -> list of ``FailureInfo`` (database);
* ``group_failures(infos, by)`` / ``failure_groups(engine, by)`` with ``by`` in
  class, reason, agent, tool;
* ``last_usable_before_failure(...)`` (``FailureInfo.last_good_checkpoint``) and ``usable_for_resume(framework, checkpoint)``.
"""

from core.failure_text import Verdict, classify_text
from core.failures.analysis import (
    GROUP_BY,
    FailureInfo,
    analyze_run,
    failed_runs,
    failure_groups,
    group_failures,
    last_usable_before_failure,
    usable_for_resume,
)
from core.failures.normalize import normalize_reason
from core.failures.rules import classify
from core.failures.taxonomy import CLASSES

__all__ = [
    "CLASSES",
    "GROUP_BY",
    "FailureInfo",
    "Verdict",
    "analyze_run",
    "classify",
    "classify_text",
    "failed_runs",
    "failure_groups",
    "group_failures",
    "last_usable_before_failure",
    "normalize_reason",
    "usable_for_resume",
]

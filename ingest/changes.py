"""Load a set of changed paths (what the watcher collected) as one batch, one transaction.

A path that exists is read (or tailed, or found unchanged by a stat); one that is gone is
marked deleted, keeping its records; a folder that is gone marks every file recorded below
it. A file that kept changing while it was read is handed back to be tried again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.store import FileOutcome, Store
from ingest.heap import collector_paused
from ingest.loader import GONE, write_resilient
from ingest.reading import Unstable, read_file


@dataclass
class ChangeResult:
    written: list[FileOutcome] = field(default_factory=list)  # loaded, ignored, failed, deleted
    retry: list[str] = field(default_factory=list)
    touched_runs: set[str] = field(default_factory=set)


def load_changes(store: Store, paths: Iterable[str], gone_folders: Iterable[str] = ()) -> ChangeResult:
    """Read ``paths`` and write what changed in one batch."""
    with collector_paused():
        return _load_changes(store, paths, gone_folders)


def _load_changes(store: Store, paths: Iterable[str], gone_folders: Iterable[str]) -> ChangeResult:
    result = ChangeResult()
    paths = list(dict.fromkeys(paths))
    known = store.known_files(paths)
    outcomes: list[FileOutcome] = []
    for name in paths:
        info = known.get(name)
        try:
            outcome = read_file(Path(name), info)
        except Unstable:
            result.retry.append(name)
            continue
        if outcome is not None and outcome.outcome == "failed" and not os.path.lexists(name):
            # Deleted (or moved away) before it could be read: a deletion, not a failure.
            if info is not None and info.outcome != "deleted":
                outcomes.append(FileOutcome(path=name, outcome="deleted", error=GONE))
            continue
        if outcome is not None and outcome.outcome != "unchanged":
            outcomes.append(outcome)
    for folder in gone_folders:
        if os.path.isdir(folder):
            continue
        for name, info in store.known_files(under=folder).items():
            if info.outcome != "deleted" and not os.path.lexists(name):
                outcomes.append(FileOutcome(path=name, outcome="deleted", error=GONE))
    outcomes = list({o.path: o for o in outcomes}.values())
    if outcomes:
        result.touched_runs = write_resilient(store, outcomes)
    result.written = outcomes
    return result

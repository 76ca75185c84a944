"""Load a set of changed paths (what the watcher collected) as one batch, one transaction.

A path that exists is read (or tailed, or found unchanged by a stat); one that is gone is
marked deleted, keeping its records; a folder that is gone marks every file recorded below
it. A file that kept changing while it was read is handed back to be tried again. A large
batch (a burst of files moved in) is shared with helper processes (``ingest.fanout``): each
share is written in a transaction of its own, so every file is still whole for readers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.store import FileOutcome, Store
from ingest.gc_pause import collector_paused
from ingest.loader import GONE, write_resilient
from ingest.reading import Unstable, read_file

if TYPE_CHECKING:
    from ingest.fanout import HelperPool

FANOUT_MIN_CHANGES = 400  # fewer paths load faster in one process than handed out


@dataclass
class ChangeResult:
    written: list[FileOutcome] = field(default_factory=list)  # loaded, ignored, failed, deleted
    retry: list[str] = field(default_factory=list)
    touched_runs: set[str] = field(default_factory=set)


def load_changes(
    store: Store, paths: Iterable[str], gone_folders: Iterable[str] = (), pool: HelperPool | None = None
) -> ChangeResult:
    """Read ``paths`` and write what changed in one batch; a batch of FANOUT_MIN_CHANGES
    paths or more is shared with ``pool``'s helper processes, each share one batch."""
    paths = list(dict.fromkeys(paths))
    with collector_paused():
        if pool is None or not pool.size or len(paths) < FANOUT_MIN_CHANGES:
            return _load_changes(store, paths, gone_folders)
        return _load_shared(store, paths, gone_folders, pool)


def _load_shared(
    store: Store, paths: list[str], gone_folders: Iterable[str], pool: HelperPool
) -> ChangeResult:
    from ingest.fanout import chunks_by_folder, share

    result = ChangeResult()

    def add(part: ChangeResult) -> None:
        result.written += part.written
        result.retry += part.retry
        result.touched_runs |= part.touched_runs

    def take(_chunk: list[str], reply: dict) -> None:
        add(
            ChangeResult(
                written=[FileOutcome(**written) for written in reply["written"]],
                retry=reply["retry"],
                touched_runs=set(reply["touched_runs"]),
            )
        )

    share(
        # Two shares per process: enough to even out, few transactions.
        chunks_by_folder(paths, max(FANOUT_MIN_CHANGES // 2, len(paths) // (2 * (pool.size + 1)))),
        pool,
        local=lambda chunk: add(_load_changes(store, chunk, ())),
        remote=lambda helper, chunk: helper.request({"changes": chunk}),
        take=take,
    )
    add(_load_changes(store, [], gone_folders))
    return result


def _load_changes(store: Store, paths: list[str], gone_folders: Iterable[str]) -> ChangeResult:
    result = ChangeResult()
    known = store.known_files(paths)
    outcomes: list[FileOutcome] = []
    for name in paths:
        info = known.get(name)
        try:
            outcome = read_file(name, info)
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

"""Load a set of changed paths (what the watcher collected) as one batch, one transaction.

A path that exists is read (or tailed, or found unchanged by a stat); one that is gone is
marked deleted, keeping its records; a folder that is gone marks every file recorded below
it. A file that kept changing while it was read is handed back to be tried again. A large
batch (a burst of files moved in) is shared with helper processes (``ingest.fanout``): each
share is written in a transaction of its own, so every file is still whole for readers.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.store import Store
from ingest.batch import ChangeResult, write_changes
from ingest.fanout import HelperPool, chunks_by_folder, share
from ingest.gc_pause import collector_paused
from ingest.worker import change_result, changes_request

FANOUT_MIN_CHANGES = 400  # fewer paths load faster in one process than handed out


def load_changes(
    store: Store, paths: Iterable[str], gone_folders: Iterable[str] = (), pool: HelperPool | None = None
) -> ChangeResult:
    """Read ``paths`` and write what changed in one batch; a batch of FANOUT_MIN_CHANGES
    paths or more is shared with ``pool``'s helper processes, each share one batch."""
    paths = list(dict.fromkeys(paths))
    with collector_paused():
        if pool is None or not pool.size or len(paths) < FANOUT_MIN_CHANGES:
            return write_changes(store, paths, gone_folders)
        return _load_shared(store, paths, gone_folders, pool)


def _load_shared(
    store: Store, paths: list[str], gone_folders: Iterable[str], pool: HelperPool
) -> ChangeResult:
    result = ChangeResult()

    def add(part: ChangeResult) -> None:
        result.written += part.written
        result.retry += part.retry
        result.touched_runs |= part.touched_runs

    def take(_chunk: list[str], reply: dict) -> None:
        add(change_result(reply))

    share(
        # Two shares per process: enough to even out, few transactions.
        chunks_by_folder(paths, max(FANOUT_MIN_CHANGES // 2, len(paths) // (2 * (pool.size + 1)))),
        pool,
        local=lambda chunk: add(write_changes(store, chunk, ())),
        remote=lambda helper, chunk: helper.request(changes_request(chunk)),
        take=take,
    )
    add(write_changes(store, [], gone_folders))
    return result

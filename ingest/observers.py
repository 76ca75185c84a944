"""Observers for the watcher: inotify where it works, polling where it cannot.

One inotify observer takes every folder it can; a folder whose watches the kernel refuses
(``fs.inotify.max_user_watches`` used up, seen as ENOSPC/EMFILE, or fewer watches gained
than folders in the tree) falls back to one polling observer, with a warning. ``poll=True``
polls everything (network filesystems, where inotify sees no remote writes). A single file
is watched through its folder, without recursion.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from ingest.inotify_budget import folder_count, inotify_watch_count

# What the watcher listens to (also the inotify mask). DirCreatedEvent brings the files of a
# folder moved in from outside; closed-without-write and opened are left out on purpose.
EVENTS = [
    FileCreatedEvent,
    FileClosedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
]
OUT_OF_WATCHES = (errno.ENOSPC, errno.EMFILE)


@dataclass
class FolderState:
    path: str
    mode: str  # inotify, polling, missing


def inotify_observer() -> BaseObserver:
    from watchdog.observers.inotify import InotifyObserver

    quiet_duplicate_watch_warning()
    return InotifyObserver()


def quiet_duplicate_watch_warning() -> None:
    """Keep watchdog's "Callback with id ... already exists for watch ..." RuntimeWarning off
    the user's terminal. Not our doing (each root is scheduled once): when a folder tree
    appears faster than inotify reports it (``mkdir -p a/b/c``, a tree copied in), watchdog
    watches a new folder's subfolders as it sees the folder, then again as their own
    creations arrive, and re-registers the same callback on the same watch, which is
    harmless. Each warning prints the repr of every watch it holds (kilobytes; 2 MB for 300
    ``mkdir -p`` in a row), and no per-location dedup applies since each text differs."""
    import warnings

    warnings.filterwarnings(  # an identical filter is replaced, not added twice
        "ignore",
        message=r"Callback with id .* already exists for watch",
        category=RuntimeWarning,
        module=r"watchdog\.observers\.",
    )


def schedule(
    roots: list[Path],
    router: FileSystemEventHandler,
    *,
    poll: bool,
    poll_interval: float,
    inotify_factory: Callable[[], BaseObserver],
    warn: Callable[[str], None],
) -> tuple[list[BaseObserver], list[FolderState]]:
    """Started observers covering ``roots``, and how each root is watched."""
    observers: list[BaseObserver] = []
    folders: list[FolderState] = []
    try:
        _schedule_all(roots, router, poll, poll_interval, inotify_factory, warn, observers, folders)
    except BaseException:
        for observer in observers:  # nothing left running behind an error
            observer.stop()
            observer.join()
        raise
    return observers, folders


def _schedule_all(
    roots: list[Path],
    router: FileSystemEventHandler,
    poll: bool,
    poll_interval: float,
    inotify_factory: Callable[[], BaseObserver],
    warn: Callable[[str], None],
    observers: list[BaseObserver],
    folders: list[FolderState],
) -> None:
    inotify: BaseObserver | None = None
    polling: BaseObserver | None = None
    if not poll:
        try:
            inotify = inotify_factory()
            inotify.start()
            observers.append(inotify)
        except OSError as exc:
            warn(f"inotify is not available ({exc.strerror or exc}): polling every folder instead")
            inotify = None
    for root in roots:
        target, recursive = (root, True) if root.is_dir() else (root.parent, False)
        if not root.exists():
            warn(f"{root}: no such file or folder; not watched")
            folders.append(FolderState(str(root), "missing"))
            continue
        if inotify is not None:
            try:
                _schedule_inotify(inotify, router, root, target, recursive, roots)
                folders.append(FolderState(str(root), "inotify"))
                continue
            except OSError as exc:
                if exc.errno not in OUT_OF_WATCHES:
                    warn(f"{root}: cannot watch ({exc.strerror or exc}); not watched")
                    folders.append(FolderState(str(root), "missing"))
                    continue
                warn(
                    f"{root}: inotify watches ran out ({exc.strerror or exc}); polling this folder "
                    f"every {poll_interval:g} s instead (raise fs.inotify.max_user_watches to fix)"
                )
        if polling is None:
            polling = PollingObserver(timeout=poll_interval)
        polling.schedule(router, str(target), recursive=recursive, event_filter=EVENTS)
        folders.append(FolderState(str(root), "polling"))
    if polling is not None:
        polling.start()
        observers.append(polling)


def _schedule_inotify(
    inotify: BaseObserver,
    router: FileSystemEventHandler,
    root: Path,
    target: Path,
    recursive: bool,
    roots: list[Path],
) -> None:
    """Watch ``target``; raise OSError(ENOSPC) when the kernel refused watches for part
    of the tree (watchdog only raises for the root itself)."""
    overlaps = any(
        other != root and (other.is_relative_to(root) or root.is_relative_to(other)) for other in roots
    )
    before = None if overlaps or not recursive else inotify_watch_count()
    watch = inotify.schedule(router, str(target), recursive=recursive, event_filter=EVENTS)
    if before is None:
        return
    gained = (inotify_watch_count() or 0) - before
    # Counted twice before giving up: a folder deleted meanwhile is not a refused watch.
    if gained < folder_count(str(target)) and gained < folder_count(str(target)):
        inotify.unschedule(watch)
        raise OSError(errno.ENOSPC, f"watched {gained} of the folders below it")

"""Did inotify really watch a whole tree? watchdog raises when the root of a tree cannot be
watched, but skips a subfolder it cannot watch without a word, which is what running out
of ``fs.inotify.max_user_watches`` looks like halfway down a deep tree. Comparing the
watches this process gained with the folders in the tree tells (Linux only).
"""

from __future__ import annotations

import os


def inotify_watch_count() -> int | None:
    """Inotify watches held by this process now, or None where /proc cannot say."""
    try:
        fds = os.listdir("/proc/self/fdinfo")
    except OSError:
        return None
    total = 0
    for fd in fds:
        try:
            with open(f"/proc/self/fdinfo/{fd}") as info:
                total += sum(1 for line in info if line.startswith("inotify wd:"))
        except OSError:
            continue
    return total


def folder_count(root: str) -> int:
    """Folders watchdog puts a watch on for ``root`` (recursive, symlinks not followed)."""
    return 1 + sum(
        1
        for folder, subfolders, _ in os.walk(root)
        for name in subfolders
        if not os.path.islink(os.path.join(folder, name))
    )

"""Open a path for reading only if it is a regular file.

A FIFO named ``x.json`` in a watched folder would block ``open()`` forever, and a symlink
to ``/dev/zero`` would be read forever: the watcher accepts paths by name. Opening
without blocking and checking the file type first turns both into a clear error.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    def __init__(self, path: str | Path) -> None:
        super().__init__(errno.EINVAL, "not a regular file (a FIFO, device or socket)", str(path))


def open_regular(path: str | Path) -> BinaryIO:
    """``open(path, "rb")`` for regular files; raises NotRegularFile for anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise

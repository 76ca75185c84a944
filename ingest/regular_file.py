"""Open a path for reading only if it is a regular file.

A FIFO named ``x.json`` in a watched folder would block ``open()`` forever, and a symlink
to ``/dev/zero`` would be read forever: the watcher accepts paths by name. Opening
without blocking and checking the file type first turns both into a clear error.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    def __init__(self, path: str | Path) -> None:
        super().__init__(errno.EINVAL, "not a regular file (a FIFO, device or socket)", str(path))


def open_regular_fd(path: str | Path) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file ``path`` (O_NONBLOCK has no effect on regular
    files) and its stat; raises NotRegularFile for anything else. The caller closes it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def open_regular(path: str | Path) -> BinaryIO:
    """``open(path, "rb")`` for regular files; raises NotRegularFile for anything else."""
    fd, _info = open_regular_fd(path)
    return os.fdopen(fd, "rb")


def read_upto(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd``'s position, fewer only where the file ends. A caller that
    got ``size`` from fstat compares sizes after reading: no read is spent to find the end."""
    parts = []
    while size > 0 and (chunk := os.read(fd, size)):
        parts.append(chunk)
        size -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def lines_before(path: str | Path, end: int, block: int = 1 << 16) -> Iterator[bytes]:
    """The lines of ``path`` before byte ``end``, the last one first, read backwards a block
    at a time: a caller that stops early reads only the end of a large file."""
    with open_regular(path) as handle:
        position, partial = min(end, os.fstat(handle.fileno()).st_size), b""
        while position > 0:
            size = min(block, position)
            position -= size
            handle.seek(position)
            lines = (handle.read(size) + partial).split(b"\n")
            partial = lines[0]
            yield from reversed(lines[1:])
        yield partial

"""Is a file still being written? Asked before reading a file no "closed" event vouches for.

Linux refuses a read lease (``F_SETLEASE``) on a file that any process has open for
writing; taking one and dropping it at once answers the question without disturbing the
writer. Where leases are not available (another OS, a file owned by someone else, some
network filesystems) the answer is "unknown" and the caller falls back on timing.
"""

from __future__ import annotations

import errno
import os

try:
    import fcntl
except ImportError:  # not a POSIX system
    fcntl = None  # type: ignore[assignment]


def open_for_writing(path: str) -> bool | None:
    """True when some process has ``path`` open for writing, False when none has, None
    when the system cannot tell."""
    if fcntl is None or not hasattr(fcntl, "F_SETLEASE"):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return True if exc.errno == errno.EAGAIN else None
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)

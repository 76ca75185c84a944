"""The paths a user names on the command line (``ingest``, ``watch``): each must be reachable."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def unreachable(paths: list[Path]) -> str | None:
    """One line naming every path that is missing or cannot be reached, or None.

    ``Path.exists`` raises for a path below a folder the user may not enter; that is a user's
    mistake to report, not a traceback."""
    problems = []
    for path in paths:
        try:
            os.stat(path)
        except FileNotFoundError:
            problems.append(f"no such file or folder: {path}")
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            if exc.errno == errno.EACCES:
                reason = "permission denied (a folder on the way cannot be entered)"
            problems.append(f"cannot reach {path}: {reason}")
    return "; ".join(problems) or None

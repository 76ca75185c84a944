"""Walk the files and folders a user names; never follow a directory loop twice.

What is skipped: version-control and cache folders, SQLite side files (``-wal``,
``-shm``, ``-journal``: their database is read instead), and editors' temp and swap files.
Hidden folders are walked, because agent frameworks keep their state in them
(``.loopengt/``, ``.agent-harness/``).

A path that holds nothing to read (a FIFO, a device, a socket, a symlink to one of them, a
dangling symlink or a symlink loop), named directly or found under a candidate's name, is
skipped: handed to the walk's ``skipped`` callback with ``skip_reason``, never read or
recorded. The watcher applies the same rule to the paths its events name.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".streamlit",
    }
)
_TEMP_NAME = re.compile(
    r"(^\.#)|(^#.*#$)|(~$)|(\.sw[a-p]$)|(\.tmp$)|(\.temp$)|(\.part$)|(\.crdownload$)|(^\.~lock)|(-(wal|shm|journal)$)"
)
CANDIDATE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".db", ".sqlite", ".sqlite3", ".log")


NAME_NOT_UTF8 = "the file name is not valid UTF-8 (rename the file to load it)"


def name_problem(path: str) -> str | None:
    """Why a path cannot be recorded (the database stores paths as UTF-8 text), or None.
    Linux allows any bytes in a name; Python hands the invalid ones over as surrogates."""
    if path.isascii():  # nearly every path, and a tenth of the cost of encoding it
        return None
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return NAME_NOT_UTF8
    return None


def printable(path: str) -> str:
    """``path`` safe to print and to store: invalid bytes shown as ``\\xff`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def is_ignored_name(name: str) -> bool:
    """Editor temp/swap files and SQLite side files."""
    return bool(_TEMP_NAME.search(name)) or name == "4913"  # vim's write test file


def is_candidate(path: Path | str) -> bool:
    return _is_candidate_name(os.path.basename(path))


def _is_candidate_name(name: str) -> bool:
    """A file Baton reads. Cheap on purpose: among names with a candidate suffix, the temp
    patterns of ``is_ignored_name`` can only match by prefix (``.#x.json``, ``.~lock.x.json``)."""
    return name.lower().endswith(CANDIDATE_SUFFIXES) and not name.startswith((".#", ".~lock"))


_entry_name = attrgetter("name")


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def skip_reason(path: str) -> str | None:
    """Why ``path`` holds nothing to read (``not a regular file (a FIFO)``, ``dangling
    symlink -> TARGET``...), or None: a regular file, a folder, or a path that is gone or
    unreadable (reading it says so)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
            return f"dangling symlink -> {_target(path)}"
        if exc.errno == errno.ELOOP:
            return f"symlink loop -> {_target(path)}"
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    via = f", symlink -> {_target(path)}" if os.path.islink(path) else ""
    return f"not a regular file ({kind}{via})"


def _target(link: str) -> str:
    try:
        return printable(os.readlink(link))
    except OSError:
        return "?"


Skipped = Callable[[str, str], None]  # (path, why): a path that holds nothing to read


def walk(paths: list[Path]) -> Iterator[Path]:
    """Yield candidate files below ``paths`` (files given directly are always yielded)."""
    return (Path(path) for path in walk_names(paths))


def walk_names(paths: list[Path], skipped: Skipped | None = None) -> Iterator[str]:
    """``walk`` yielding path strings: no Path object per file on the hot path. What
    holds nothing to read (see ``skip_reason``) goes to ``skipped``: a path named in
    ``paths``, whatever its name, and a candidate's name below them."""
    seen_dirs: set[tuple[int, int]] = set()
    for root in paths:
        if root.is_file():
            yield str(root)
            continue
        if not root.is_dir():  # nothing to read (or it is gone: nothing to walk)
            if skipped is not None and (why := skip_reason(str(root))) is not None:
                skipped(str(root), why)
            continue
        yield from _walk_dir(str(root), seen_dirs, skipped)


def _walk_dir(root: str, seen_dirs: set[tuple[int, int]], skipped: Skipped | None = None) -> Iterator[str]:
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError:
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:  # a symlink loop or a folder reached twice
            continue
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=_entry_name)
        except OSError as exc:  # a folder the user may not read: say so, never skip it silently
            if skipped is not None:
                skipped(folder, f"cannot read this folder: {exc.strerror or exc}")
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS:
                        subfolders.append(entry.path)
                    continue
                if entry.is_file():
                    if _is_candidate_name(entry.name):
                        yield entry.path
                    continue
            except OSError:  # a symlink loop, say: reported below like the rest
                pass
            # Not a folder or a regular file (rare): a FIFO, a device, a dangling symlink...
            if (
                skipped is not None
                and _is_candidate_name(entry.name)
                and (why := skip_reason(entry.path)) is not None
            ):
                skipped(entry.path, why)
        stack.extend(reversed(subfolders))

"""Walk the files and folders a user names; never follow a directory loop twice.

What is skipped: version-control and cache folders, SQLite side files (``-wal``,
``-shm``, ``-journal``: their database is read instead), and editors' temp and swap files.
Hidden folders are walked, because agent frameworks keep their state in them
(``.loopengt/``, ``.agent-harness/``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
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


def walk(paths: list[Path]) -> Iterator[Path]:
    """Yield candidate files below ``paths`` (files given directly are always yielded)."""
    return (Path(path) for path in walk_names(paths))


def walk_names(paths: list[Path]) -> Iterator[str]:
    """``walk`` yielding path strings: no Path object per file on the hot path."""
    seen_dirs: set[tuple[int, int]] = set()
    for root in paths:
        if root.is_file():
            yield str(root)
            continue
        yield from _walk_dir(str(root), seen_dirs)


def _walk_dir(root: str, seen_dirs: set[tuple[int, int]]) -> Iterator[str]:
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
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS:
                        subfolders.append(entry.path)
                elif entry.is_file() and _is_candidate_name(entry.name):
                    yield entry.path
            except OSError:
                continue
        stack.extend(reversed(subfolders))

"""Read a source SQLite database without changing a byte of the folder it is in.

SQLite's own read-only open (``mode=ro``) of a WAL database creates ``-shm`` (and an empty
``-wal``) beside it when they are missing, and writes its read marks into a ``-shm`` that a
writer left; ``immutable=1`` creates and writes nothing but ignores the ``-wal``, where a
running agent's latest commits are. So a source is opened one of three ways:

* a WAL database with no ``-wal`` (or an empty one): ``immutable=1``;
* a rollback-journal database with no ``-journal``: ``mode=ro`` (it creates nothing there, and
  keeps SQLite's locks against a writer);
* otherwise (commits still in the ``-wal``, a hot ``-journal`` of a writer that died or is
  writing): a private copy of the database and its log, in a temp folder removed after. SQLite
  reads the copied log (or rolls the copied journal back) there. The copy is taken again when
  the log was restarted by a checkpoint while it was copied, so a database being written
  loads as one committed state.

``consistent_view(path)`` makes every ``connect(path)`` inside it open the same view: the
sniffers and the parser of one read see one state, and a live database is copied once.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import SourceChanged

COPY_NAME = "database"  # not a name Baton reads: a temp folder that is watched stays quiet
LOG_SUFFIXES = ("-wal", "-journal")
_HEADER = 32  # a WAL header: its checkpoint sequence and salts change when the log restarts
_ATTEMPTS = 5


@dataclass
class View:
    """How one database is opened: ``uri``; ``folder`` holds a private copy (else None)."""

    source: str
    uri: str
    folder: str | None = None
    unchanged: tuple[int, int] | None = None  # (size, mtime) an immutable read relies on
    _cleanup: weakref.finalize | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.folder is not None:  # removed on release, or when the view is lost (or at exit)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def release(self) -> None:
        if self._cleanup is not None:
            self._cleanup()

    def check(self) -> None:
        """Raise SourceChanged when an immutable read's file was written while it was read
        (a checkpoint copying a log into it that appeared meanwhile)."""
        if self.unchanged is not None and _stat(self.source) != self.unchanged:
            raise SourceChanged(self.source)


def _stat(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def _log_of(path: str) -> str | None:
    """The suffix of a non-empty log beside ``path`` (``-wal`` or ``-journal``), or None."""
    for suffix in LOG_SUFFIXES:
        size = (_stat(path + suffix) or (0, 0))[0]
        if size > 0:
            return suffix
    return None


def _is_wal_format(path: str) -> bool:
    """The header's file format versions (bytes 18 and 19) are 2 for WAL mode."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(20)
    except OSError:
        return True  # opened immutable: nothing can be created beside it
    return len(header) < 20 or header[18] == 2 or header[19] == 2


def _head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_HEADER)
    except OSError:
        return None


def take_view(path: str | Path) -> View:
    """Decide how to open ``path`` (see the module docstring) and copy it if need be."""
    source = os.path.realpath(path)  # where SQLite looks for the log: beside the real file
    uri = Path(source).as_uri()
    for _attempt in range(_ATTEMPTS):
        suffix = _log_of(source)
        if suffix is None:
            if _is_wal_format(source):
                return View(source, f"{uri}?immutable=1", unchanged=_stat(source))
            return View(source, f"{uri}?mode=ro")
        view = _copy(source, suffix)
        if view is not None:
            return view
    raise SourceChanged(source)


def _copy(source: str, suffix: str) -> View | None:
    """The database and its log copied into a private folder, or None when the log was
    restarted or removed, or the database written, while they were copied."""
    folder = tempfile.mkdtemp(prefix="baton-sqlite-")
    copy = os.path.join(folder, COPY_NAME)
    log_head, before = _head(source + suffix), _stat(source)
    try:
        shutil.copyfile(source, copy)
        shutil.copyfile(source + suffix, copy + suffix)
        consistent = _head(source + suffix) == log_head and _stat(source) == before
    except OSError:  # the log went away (its writer closed): decide again
        consistent = False
    if not consistent:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    # The copied journal must be rolled back, so that copy is opened read-write; a copied
    # WAL is read as it is.
    mode = "?mode=ro" if suffix == "-wal" else ""
    return View(source, Path(copy).as_uri() + mode, folder=folder)


class _ViewConnection(sqlite3.Connection):
    """A connection that owns its view: closing it removes its private copy (losing it
    too: the view goes with it)."""

    owned: View | None = None

    def close(self) -> None:
        super().close()
        view, self.owned = self.owned, None
        if view is not None:
            view.release()


# The views of the databases being read in this thread (None until first connected).
_views: contextvars.ContextVar[dict[str, View | None]] = contextvars.ContextVar("baton_sqlite_views")


@contextmanager
def consistent_view(path: str | Path) -> Iterator[None]:
    """Inside it, ``connect(path)`` opens one view of ``path``, taken on first use and
    released at the end. Raises SourceChanged at the end when an immutable read may have
    seen a database half written."""
    key = os.path.realpath(path)
    views = _views.get({})
    if key in views:
        yield
        return
    token = _views.set({**views, key: None})
    try:
        yield
        view = _views.get()[key]
        if view is not None:
            view.check()
    finally:
        view = _views.get()[key]
        _views.reset(token)
        if view is not None:
            view.release()


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to the source database ``path`` that changes nothing beside
    it. The caller closes it; failures are sqlite3.Error."""
    key = os.path.realpath(path)
    views = _views.get({})
    if key in views:
        view = views[key]
        if view is None:
            view = views[key] = take_view(key)
        return sqlite3.connect(view.uri, uri=True)
    view = take_view(key)
    try:
        connection = sqlite3.connect(view.uri, uri=True, factory=_ViewConnection)
    except BaseException:
        view.release()
        raise
    connection.owned = view
    return connection

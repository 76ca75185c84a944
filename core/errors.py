"""Mistakes a user can make and database errors, turned into one clear line by the surfaces
(CLI, dashboard). Imports no SQLAlchemy: ``baton --help`` loads it."""

from __future__ import annotations

import errno
import sys


class UserError(Exception):
    """Something the user asked for that cannot be done as asked; the message says why."""


class NotFound(UserError):
    pass


class Ambiguous(UserError):
    pass


class DatabaseURLError(ValueError):
    """A database URL Baton cannot use; the message says why."""


class DatabaseBusy(OSError):
    """Another process held the database's write lock longer than a writer waits for it;
    nothing of the batch was written (an OSError: the database is a busy resource)."""


class NoDatabase(UserError):
    """A command that only reads was pointed at a SQLite file that does not exist (a typo
    must not create folders and an empty database)."""


# SQLSTATE 53100: PostgreSQL's disk_full.
_PG_DISK_FULL = "53100"


def database_failure(exc: BaseException) -> tuple[str, int] | None:
    """One line and an exit code for an error a database raised (a SQLAlchemy DBAPIError, or
    a driver's own error) or a full disk, else None; without importing SQLAlchemy (an
    exception can only be SQLAlchemy's if SQLAlchemy was imported).

    A full disk exits 1: what was committed before is intact, and the files of the batch that
    failed were not marked read, so the next pass reads them again. Anything else exits 2."""
    driver_error = _driver_error(exc)
    if driver_error is None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            where = f" writing {exc.filename}" if exc.filename else ""
            return f"no space left on device{where}: free some space and run again", 1
        return None
    text = database_error_text(driver_error)
    if is_disk_full(exc):
        return (
            f"the database's disk is full ({text}): what was written before is kept; "
            "free some space and run again (the files not written are read again)",
            1,
        )
    return f"database error: {text}", 2


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full, or the OS's ENOSPC."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    driver_error = _driver_error(exc)
    return driver_error is not None and (
        getattr(driver_error, "sqlstate", None) == _PG_DISK_FULL
        or "database or disk is full" in str(driver_error)
    )


def database_error_text(exc: BaseException) -> str:
    """The first line of a database error's own message, without SQLAlchemy's wrapping (the
    "(sqlite3.OperationalError)" prefix, the SQL, the link to its documentation)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if isinstance(orig, BaseException) else exc).strip()
    return (text.splitlines() or [exc.__class__.__name__])[0]


def _driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's error in ``exc`` (``exc`` itself when a driver raised it
    directly), or None when ``exc`` is no database's error."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.DBAPIError):
        return exc.orig if isinstance(exc.orig, BaseException) else exc
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        return exc
    return exc if exc.__class__.__module__.split(".")[0] in {"psycopg", "psycopg2"} else None

"""Mistakes a user can make, turned into one clear line by the surfaces (CLI, dashboard)."""

from __future__ import annotations


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

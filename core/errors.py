"""Mistakes a user can make, turned into one clear line by the surfaces (CLI, dashboard)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked for that cannot be done as asked; the message says why."""


class NotFound(UserError):
    pass


class Ambiguous(UserError):
    pass

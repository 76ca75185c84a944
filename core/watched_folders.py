"""Folders a user added on the dashboard to be watched from then on (kept in the database,
so they survive a restart and every dashboard on the database watches them)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from core.tables import WatchedFolder
from core.timeutil import utcnow


def list_folders(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(WatchedFolder.path).order_by(WatchedFolder.path)).scalars())


def add_folder(engine: Engine, path: str) -> bool:
    """Remember ``path`` (an absolute path); False when it was already there."""
    with engine.begin() as connection:
        if connection.execute(select(WatchedFolder.path).where(WatchedFolder.path == path)).first():
            return False
        connection.execute(WatchedFolder.__table__.insert(), {"path": path, "added_at": utcnow()})
    return True


def remove_folder(engine: Engine, path: str) -> bool:
    """Stop watching ``path`` (what was loaded from it stays); False when it was not there."""
    with engine.begin() as connection:
        return connection.execute(delete(WatchedFolder).where(WatchedFolder.path == path)).rowcount > 0

"""Engines and schema: SQLite by default (WAL), any SQLAlchemy URL otherwise.

The schema is created and migrated on first use through an ordered list of migrations
(``core.migrations``); there is no manual step.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import create_engine

# Defined without SQLAlchemy so that the command line can catch them cheaply; importable from
# here as before.
from core.errors import DatabaseBusy as DatabaseBusy
from core.errors import DatabaseURLError, NoDatabase, database_error_text, database_failure

DEFAULT_DB_PATH = Path("~/.baton/baton.db")
BUSY_TIMEOUT_S = 30


def busy_timeout_s() -> float:
    """How long a SQLite writer waits for the write lock: BATON_BUSY_TIMEOUT_S, default 30."""
    try:
        return max(0.0, float(os.environ.get("BATON_BUSY_TIMEOUT_S") or BUSY_TIMEOUT_S))
    except ValueError:
        return BUSY_TIMEOUT_S


def is_lock_timeout(exc: BaseException) -> bool:
    """SQLite's "database is locked" once the busy timeout ran out."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def default_url() -> str:
    return os.environ.get("BATON_DB_URL") or f"sqlite:///{DEFAULT_DB_PATH.expanduser()}"


def _json_dumps(value: object) -> str:
    """JSON text of a column value. Keys that are not strings and values JSON has no type
    for (written with ``str``) take the slower second call: OPT_NON_STR_KEYS alone doubles
    the cost of serializing a dict, and almost every value is plain JSON."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 (DBAPI objects)
    cursor = dbapi_connection.cursor()
    busy_ms = int(busy_timeout_s() * 1000)
    cursor.execute("PRAGMA journal_mode=WAL")
    # A writer waits this long for the write lock before "database is locked" (the same as
    # the driver's connect timeout, which this setting would otherwise cut to 5 s): with
    # fan-out helpers and the watcher writing at once, a wait of several seconds is normal,
    # and a writer that gives up records its files as failed. Readers never wait in WAL mode.
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache (default 2 MiB): a batch of 2,000 files touches more index pages
    # than 2 MiB hold; ~5% faster cold ingest. Memory is taken only as pages are used.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def make_engine(url: str | None = None, migrate: bool = True, create: bool = True) -> Engine:
    """Create an engine for ``url`` (default: BATON_DB_URL or ~/.baton/baton.db) and bring
    its schema up to date. With ``create=False`` (the commands that only read) a SQLite file
    that does not exist is an error (NoDatabase), not a new empty database in new folders.

    A URL, path or file that is no database raises DatabaseURLError with one line of ours."""
    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseURLError(f"not a database URL: {url!r} (try sqlite:///path/to/baton.db)") from None
    shown = parsed.render_as_string(hide_password=True)
    kwargs: dict = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            shown = str(path)
            if path.is_dir():
                raise DatabaseURLError(
                    f"{path} is a folder; the database is a file, such as {path / 'baton.db'}"
                )
            if not create and not path.exists():
                raise NoDatabase(f"no database at {path} (baton ingest creates one)")
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(path))
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_s()}
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # unknown dialect, missing driver
        raise DatabaseURLError(f"cannot use database URL {shown!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        from core.migrations import migrate as run_migrations

        try:
            run_migrations(engine)
        except Exception as exc:
            failure = database_failure(exc)
            if isinstance(exc, DatabaseURLError) or (failure is not None and failure[1] == 1):
                raise  # a full disk is no fault of the URL
            engine.dispose()
            raise DatabaseURLError(f"cannot open database {shown}: {database_error_text(exc)}") from exc
    return engine

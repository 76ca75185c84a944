"""Shared fixtures: real databases (SQLite always, PostgreSQL when BATON_TEST_PG_URL is set)
and the bundled sample runs as fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

import core.db
from core.db import make_engine
from core.store import Store

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RUNS = REPO / "sample_runs"
PG_URL = os.environ.get("BATON_TEST_PG_URL")

DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _reset_postgres(url: str) -> None:
    engine = make_engine(url, migrate=False)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, or the test PostgreSQL reset to empty."""
    if request.param == "postgresql":
        assert PG_URL
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'baton.db'}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'baton.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine)


@pytest.fixture
def new_store() -> Iterator[Callable[[str], Store]]:
    """Stores on engines of their own, disposed after the test: the suite runs hundreds of
    tests on one PostgreSQL server, whose connections are limited (100 by default)."""
    engines: list[Engine] = []

    def make(url: str) -> Store:
        engines.append(make_engine(url))
        return Store(engines[-1])

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture(autouse=True)
def dispose_engines_made_by_commands(
    monkeypatch: pytest.MonkeyPatch, _postgres_connections_released: None
) -> Iterator[None]:
    """Dispose, after each test, the engines made by code that imports ``make_engine`` when it
    runs: the CLI commands (``baton.cli.main``, which many tests call in-process, leave the
    engine to the process's exit) and ``start_background``'s watcher. Undisposed, each kept
    its pooled connection (PostgreSQL: a server process) open until the garbage collector
    happened to free it; the suite peaked at PostgreSQL's default limit of 100. (Asks for the
    guard below so that the guard counts after these are disposed.)"""
    made: list[Engine] = []

    def recorded(*args: object, **kwargs: object) -> Engine:
        engine = make_engine(*args, **kwargs)  # type: ignore[arg-type]
        made.append(engine)
        return engine

    monkeypatch.setattr(core.db, "make_engine", recorded)
    yield
    for engine in made:
        engine.dispose()


# -- the guard: the suite releases its PostgreSQL connections -------------------------------
# After any one test, at most this many connections to the test database may be open (a
# module-scoped fixture's engine, a watcher still stopping); at the end of the session, at
# most END_LIMIT. An engine made and never disposed keeps its pooled connections open until
# the garbage collector frees it, so leaks add up from test to test and show here.
CONNECTIONS_AFTER_A_TEST = 12
CONNECTIONS_AT_THE_END = 3
_COUNT = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
_most: dict[str, object] = {"count": 0, "test": None, "over": []}


@pytest.fixture(scope="session")
def _postgres_guard() -> Iterator[Connection | None]:
    if not PG_URL:
        yield None
        return
    guard = create_engine(PG_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with guard.connect() as connection:
        yield connection
        # Not garbage-collected first on purpose: an engine nobody disposed is exactly what
        # this is here to find.
        left = connection.execute(_COUNT).scalar_one()
    guard.dispose()
    problems = []
    if _most["over"]:
        problems.append(
            f"after {len(_most['over'])} tests more than {CONNECTIONS_AFTER_A_TEST} PostgreSQL connections "
            f"stayed open (most: {_most['count']} after {_most['test']}); first: "
            + ", ".join(f"{t} ({n})" for t, n in _most["over"][:5])  # type: ignore[index]
        )
    if left > CONNECTIONS_AT_THE_END:
        problems.append(f"{left} PostgreSQL connections still open at the end of the suite")
    if problems:
        pytest.fail("connections leaked (an engine made and not disposed?): " + "; ".join(problems))


@pytest.fixture(autouse=True)
def _postgres_connections_released(
    request: pytest.FixtureRequest, _postgres_guard: Connection | None
) -> Iterator[None]:
    """Count this database's connections once the test's own fixtures are torn down (this
    autouse fixture is set up before them, so it is torn down after them)."""
    yield
    if _postgres_guard is None:
        return
    count = _postgres_guard.execute(_COUNT).scalar_one()
    if count > _most["count"]:  # type: ignore[operator]
        _most["count"], _most["test"] = count, request.node.nodeid
    if count > CONNECTIONS_AFTER_A_TEST:
        _most["over"].append((request.node.nodeid, count))  # type: ignore[union-attr]

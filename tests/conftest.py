"""Shared fixtures: real databases (SQLite always, PostgreSQL when BATON_TEST_PG_URL is set)
and the bundled sample runs as fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

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

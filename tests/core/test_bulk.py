"""The SQLite fast path of bulk inserts stores exactly the text SQLAlchemy itself stores
(datetimes, JSON incl. None), so rows read back the same whichever path wrote them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

from core.db import make_engine
from core.store.bulk import bulk_insert
from core.tables import Run


def _rows() -> list[dict]:
    times = [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(5, 1, 1, tzinfo=timezone(timedelta(hours=3))),
        None,
    ]
    values = [{"a": [1, 2.5, None], "é": "ü"}, None, "text", {"when": times[0]}]
    return [
        {
            "id": f"run-{n}",
            "framework": "acf",
            "native_id": f"n{n}",
            "status": "failed",
            "started_at": when,
            "agents": ["a", "b"] if n % 2 else None,
            "attributes": value,
            "checkpoint_count": n,
            "event_count": 0,
        }
        for n, (when, value) in enumerate(zip(times, values, strict=True))
    ]


def _stored(url: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, started_at, agents, attributes FROM run ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_fast_path_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    fast, core = f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'core.db'}"
    with make_engine(fast).begin() as connection:
        bulk_insert(connection, Run.__table__, _rows())
    with make_engine(core).begin() as connection:
        connection.execute(Run.__table__.insert(), _rows())
    stored = _stored(fast)
    assert stored == _stored(core)
    assert stored[0][1] == "2026-01-02 03:04:05.000006" and stored[1][1] == "2026-01-02 04:59:59.999999"


def test_json_keys_and_values_of_no_json_type_are_stored_as_text(tmp_path: Path) -> None:
    """A parser's dict may have int keys or hold a value JSON has no type for: stored as
    text (the serializer's second, slower call), never a failed batch."""
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    row = _rows()[0] | {"attributes": {1: "one", "where": Path("/tmp/x"), "plain": [True]}}
    with make_engine(url).begin() as connection:
        bulk_insert(connection, Run.__table__, [row])
    [(_id, _started, _agents, attributes)] = _stored(url)
    assert json.loads(attributes) == {"1": "one", "where": "/tmp/x", "plain": [True]}

"""Small helpers the tests share: counting rows the way a user would see them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.tables import Checkpoint, Event, Run


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.__tablename__: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Run, Checkpoint, Event)
        }


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def database_state(engine: Engine) -> dict[str, Any]:
    """What a user can see of a database, through ``core``: every run (with its cost and
    failure class), its checkpoints with their documents, its events in timeline order,
    and every file's outcome. Leaves out only what differs between two ingests of the same
    files: when each file was seen and loaded, and the numbers the database gave files."""
    from core import queries, timeline
    from core.annotate import annotate_runs

    runs = sorted(annotate_runs(engine, queries.list_runs(engine)), key=lambda run: run["id"])
    checkpoints = {run["id"]: queries.run_checkpoints(engine, run["id"], with_documents=True) for run in runs}
    events = {}
    for run in runs:
        order = timeline.run_order(engine, run["id"])
        rows = timeline.event_rows(engine, order.ids)
        events[run["id"]] = [rows[event_id] for event_id in order.ids]
    files = [
        {key: value for key, value in row.items() if key not in ("seen_at", "loaded_at")}
        for row in queries.source_files(engine)
    ]
    return {"runs": runs, "checkpoints": checkpoints, "events": events, "files": files}


def fresh_postgres_database(url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``url``, created if missing and emptied:
    a second database beside the test one (a clean ingest to compare with, say)."""
    from sqlalchemy import create_engine, make_url, text

    server = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists.first() is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        server.dispose()
    other = make_url(url).set(database=name).render_as_string(hide_password=False)
    database = create_engine(other)
    try:
        with database.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        database.dispose()
    return other

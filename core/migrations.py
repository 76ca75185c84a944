"""Schema changes as an ordered list. Each migration runs once, in order, in a transaction.

Migration 1 creates the tables as ``core.tables`` declares them. Later migrations must
tolerate a database that migration 1 created with a newer ``core.tables`` (check before
adding a column), because a fresh database gets every table's current shape at once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from core import tables
from core.timeutil import utcnow


def _create_tables(connection: Connection) -> None:
    SQLModel.metadata.create_all(connection)


def _add_resume_export(connection: Connection) -> None:
    tables.ResumeExport.__table__.create(connection, checkfirst=True)


def _add_run_list_indexes(connection: Connection) -> None:
    """The Runs page filters by status or framework and sorts by start: one index each, so
    a page of 100k runs is an index range, not a sort."""
    connection.execute(text("CREATE INDEX IF NOT EXISTS ix_run_status_started ON run (status, started_at)"))
    connection.execute(
        text("CREATE INDEX IF NOT EXISTS ix_run_framework_started ON run (framework, started_at)")
    )


def _add_dashboard_indexes(connection: Connection) -> None:
    """A run's model calls and event kinds are one index range (not every call of the
    database); the data version's max(seen_at) is one index lookup, not a table scan."""
    connection.execute(text("CREATE INDEX IF NOT EXISTS ix_event_run_kind ON event (run_id, kind)"))
    connection.execute(text("CREATE INDEX IF NOT EXISTS ix_source_file_seen_at ON source_file (seen_at)"))


def _add_checkpoint_sources(connection: Connection) -> None:
    """Which files hold each checkpoint; until now, only the last one to write it."""
    tables.CheckpointSource.__table__.create(connection, checkfirst=True)
    connection.execute(
        text(
            "INSERT INTO checkpoint_source (checkpoint_id, source_file_id) SELECT id, source_file_id"
            " FROM checkpoint WHERE source_file_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM checkpoint_source s WHERE s.checkpoint_id = checkpoint.id)"
        )
    )


def _add_cache_write_lifetimes(connection: Connection) -> None:
    """Prices of 5-minute and 1-hour cache writes found in pricing files."""
    add_column_if_missing(connection, "price", "cache_write_5min_per_million", "FLOAT")
    add_column_if_missing(connection, "price", "cache_write_1h_per_million", "FLOAT")
    # Pricing files loaded before are read again by the next ingest, to fill them in.
    connection.execute(
        text("UPDATE source_file SET size = -1, content_hash = NULL WHERE format = 'techrevati.pricing'")
    )


def _drop_covered_run_indexes(connection: Connection) -> None:
    """Indexes of run.framework and run.status alone: the (column, started_at) indexes
    serve the same filters, and every new run paid for two more index entries."""
    connection.execute(text("DROP INDEX IF EXISTS ix_run_framework"))
    connection.execute(text("DROP INDEX IF EXISTS ix_run_status"))


def _add_event_sources(connection: Connection) -> None:
    """Which other files hold an event whose stored copy is one file's. Events loaded
    before have none recorded; a file loaded again records its share."""
    tables.EventSource.__table__.create(connection, checkfirst=True)


def _drop_checkpoint_parent_index(connection: Connection) -> None:
    """No query looks checkpoints up by parent (lineage follows parents in Python over a
    run's checkpoints); the index cost every checkpoint insert about 1.3 us."""
    connection.execute(text("DROP INDEX IF EXISTS ix_checkpoint_parent_id"))


def _keep_only_extra_checkpoint_holders(connection: Connection) -> None:
    """``checkpoint_source`` lists only the files that hold a checkpoint besides the one
    whose copy is stored (``checkpoint.source_file_id``), as ``event_source`` does: a
    checkpoint in one file, nearly all of them, costs no row there."""
    connection.execute(
        text(
            "DELETE FROM checkpoint_source WHERE EXISTS (SELECT 1 FROM checkpoint c"
            " WHERE c.id = checkpoint_source.checkpoint_id"
            " AND c.source_file_id = checkpoint_source.source_file_id)"
        )
    )


def _reread_techrevati_files(connection: Connection) -> None:
    """techrevati runs are now the sessions' own (one run however many files hold a session)
    and a pricing.json's omitted cache rates 0, as the package reads them: every techrevati
    file loaded before is read again, whole, by the next ingest (which replaces what it
    contributed under the old file-named run ids)."""
    connection.execute(
        text(
            "UPDATE source_file SET size = -1, content_hash = NULL, read_offset = 0"
            " WHERE framework = 'techrevati'"
        )
    )


def _add_bad_lines(connection: Connection) -> None:
    """A JSON Lines file loads its good lines; its bad ones are listed on its row."""
    json_type = "JSONB" if connection.dialect.name == "postgresql" else "JSON"
    add_column_if_missing(connection, "source_file", "bad_lines", json_type)
    add_column_if_missing(connection, "source_file", "bad_line_count", "INTEGER")
    # Files failed for one bad line are read again by the next ingest (a failed file is).


def _add_run_rollups(connection: Connection) -> None:
    """Per-run cost and failure figures the dashboard aggregates in SQL (``core.rollup``);
    empty until the first read that needs them fills them."""
    tables.RunRollup.__table__.create(connection, checkfirst=True)
    tables.RunCostPart.__table__.create(connection, checkfirst=True)
    tables.RollupState.__table__.create(connection, checkfirst=True)


def _add_watched_folders(connection: Connection) -> None:
    """Folders added on the dashboard's Ingest page, watched until removed."""
    tables.WatchedFolder.__table__.create(connection, checkfirst=True)


def _add_run_joins(connection: Connection) -> None:
    """Runs that join another file's run (a techrevati worker dump, its session's stream):
    worker files loaded before are read again, whole, by the next ingest, to join."""
    tables.RunJoin.__table__.create(connection, checkfirst=True)
    connection.execute(
        text(
            "UPDATE source_file SET size = -1, content_hash = NULL, read_offset = 0"
            " WHERE format = 'techrevati.worker'"
        )
    )


def _add_change_and_failure_indexes(connection: Connection) -> None:
    """The dashboard's rollup refresh reads the runs changed since its last one by run
    updated_at, not by a scan of every run (75 ms at 100k runs, on every new file); the
    Overview reads its latest failures down the rollup's failed_at."""
    connection.execute(text("CREATE INDEX IF NOT EXISTS ix_run_updated_at ON run (updated_at)"))
    # Newest first with the NULLs last, as the query orders: PostgreSQL reads a plain index
    # backwards only as DESC NULLS FIRST (SQLite's NULLs sort first, so backwards is right).
    order = " DESC NULLS LAST" if connection.dialect.name == "postgresql" else ""
    connection.execute(
        text(f"CREATE INDEX IF NOT EXISTS ix_run_rollup_failed_at ON run_rollup (failed_at{order})")
    )


def _index_events_by_file_and_seq(connection: Connection) -> None:
    """An appended read numbers its events on from the file's last seq: with the file's
    events indexed by file alone that was a read of all of them (19 ms at 50,000 events of
    an OTLP spool file, on every append); by (file, seq) it is one index lookup. The new
    index serves every lookup by file the old one did, at the same cost per insert."""
    connection.execute(
        text("CREATE INDEX IF NOT EXISTS ix_event_source_file_seq ON event (source_file_id, seq)")
    )
    connection.execute(text("DROP INDEX IF EXISTS ix_event_source_file_id"))


MIGRATIONS: list[Callable[[Connection], None]] = [
    _create_tables,
    _add_resume_export,
    _add_run_list_indexes,
    _add_dashboard_indexes,
    _add_checkpoint_sources,
    _add_cache_write_lifetimes,
    _drop_covered_run_indexes,
    _add_event_sources,
    _drop_checkpoint_parent_index,
    _keep_only_extra_checkpoint_holders,
    _reread_techrevati_files,
    _add_bad_lines,
    _add_run_rollups,
    _add_watched_folders,
    _add_run_joins,
    _add_change_and_failure_indexes,
    _index_events_by_file_and_seq,
]


def add_column_if_missing(connection: Connection, table: str, column: str, ddl_type: str) -> None:
    """For later migrations: add a column unless a fresh create_all already made it."""
    existing = {col["name"] for col in inspect(connection).get_columns(table)}
    if column not in existing:
        connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl_type}"))


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table(tables.SchemaVersion.__tablename__):
        return 0
    value = connection.execute(text("SELECT MAX(version) FROM baton_schema")).scalar()
    return int(value or 0)


def migrate(engine: Engine) -> int:
    """Apply pending migrations; return the schema version."""
    with engine.begin() as connection:
        version = current_version(connection)
        if version >= len(MIGRATIONS):
            return version
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(72616)"))  # one migrator at a time
            version = current_version(connection)
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            migration(connection)
            if number == 1:
                tables.SchemaVersion.__table__.create(connection, checkfirst=True)
            connection.execute(
                tables.SchemaVersion.__table__.insert(), {"version": number, "applied_at": utcnow()}
            )
        return len(MIGRATIONS)

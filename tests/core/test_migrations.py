"""A database made by an earlier version gains the new price columns, and the pricing
files it loaded are read again by the next ingest, so their 1-hour rates appear."""

from __future__ import annotations

from sqlalchemy import inspect, text

from core import prices, queries
from core.db import make_engine
from core.migrations import MIGRATIONS
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

PRICING = SAMPLE_RUNS / "techrevati" / "v0.4.0" / "pricing.json"


def _as_made_before(db_url: str, paths: list, migration: str, statements: list[str]) -> None:
    """A database holding ``paths`` as the version before ``migration`` made it: ``statements``
    undo what the migration did, and the schema says it has not run."""
    store = Store(make_engine(db_url))
    ingest_paths(paths, store)
    version = [m.__name__ for m in MIGRATIONS].index(migration) + 1
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()


def test_older_database_gets_cache_write_lifetimes_after_the_next_ingest(db_url: str) -> None:
    store = Store(make_engine(db_url))
    ingest_paths([PRICING], store)
    version = [m.__name__ for m in MIGRATIONS].index("_add_cache_write_lifetimes") + 1
    with store.engine.begin() as connection:  # the database as the version before made it
        for column in ("cache_write_5min_per_million", "cache_write_1h_per_million"):
            connection.execute(text(f"ALTER TABLE price DROP COLUMN {column}"))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()

    store = Store(make_engine(db_url))
    assert prices.ingested_prices(store.engine)["model-b"].cache_write_1h is None
    summary = ingest_paths([PRICING], store)
    assert summary.files_loaded == 1
    model_b = prices.ingested_prices(store.engine)["model-b"]
    assert (model_b.cache_write, model_b.cache_write_1h) == (1.0, 1.6)
    store.engine.dispose()


def test_older_database_loses_the_run_indexes_the_composite_ones_cover(db_url: str) -> None:
    _as_made_before(
        db_url,
        [SAMPLE_RUNS / "acf", SAMPLE_RUNS / "loopengt"],
        "_drop_covered_run_indexes",
        ["CREATE INDEX ix_run_framework ON run (framework)", "CREATE INDEX ix_run_status ON run (status)"],
    )

    engine = make_engine(db_url)
    names = {index["name"] for index in inspect(engine).get_indexes("run")}
    assert {"ix_run_status_started", "ix_run_framework_started"} <= names
    assert not names & {"ix_run_framework", "ix_run_status"}
    failed = queries.list_runs(engine, status="failed")
    assert failed and {run["status"] for run in failed} == {"failed"}
    loopengt = queries.list_runs(engine, framework="loopengt")
    assert loopengt and {run["framework"] for run in loopengt} == {"loopengt"}
    engine.dispose()


def test_older_database_loses_the_checkpoint_parent_index_and_keeps_its_lineage(db_url: str) -> None:
    _as_made_before(
        db_url,
        [SAMPLE_RUNS / "acf"],
        "_drop_checkpoint_parent_index",
        ["CREATE INDEX ix_checkpoint_parent_id ON checkpoint (parent_id)"],
    )

    engine = make_engine(db_url)
    names = {index["name"] for index in inspect(engine).get_indexes("checkpoint")}
    assert "ix_checkpoint_parent_id" not in names
    assert {"ix_checkpoint_run_id", "ix_checkpoint_source_file_id"} <= names
    forked = [
        run
        for run in queries.list_runs(engine, framework="acf")
        if any(cp["parent_id"] for cp in queries.run_checkpoints(engine, run["id"]))
    ]
    assert forked, "the sample ACF runs have chains: children name their parent"
    engine.dispose()


def test_older_database_indexes_events_by_file_and_seq_and_appends_number_on(db_url: str) -> None:
    """The index by file alone made every appended read count all of the file's events to
    find the next seq; a database made before gets the (file, seq) index in its place, and the
    next seq of a file (where its appended lines number on) is read from it."""
    from core.store.lookups import next_seq

    _as_made_before(
        db_url,
        [SAMPLE_RUNS / "otel" / "genai_agent.jsonl"],
        "_index_events_by_file_and_seq",
        [
            "DROP INDEX ix_event_source_file_seq",
            "CREATE INDEX ix_event_source_file_id ON event (source_file_id)",
        ],
    )

    engine = make_engine(db_url)
    names = {index["name"] for index in inspect(engine).get_indexes("event")}
    assert "ix_event_source_file_seq" in names and "ix_event_source_file_id" not in names
    with engine.connect() as connection:
        file_id = connection.execute(text("SELECT id FROM source_file")).scalar_one()
        seqs = (
            connection.execute(text(f"SELECT seq FROM event WHERE source_file_id = {file_id}"))
            .scalars()
            .all()
        )
        assert seqs and next_seq(connection, file_id) == max(seqs) + 1
        if engine.dialect.name == "sqlite":  # the next seq is read from the index, not the events
            plan = " ".join(
                str(row[-1])
                for row in connection.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT max(seq) FROM event WHERE source_file_id = {file_id}")
                )
            )
            assert "COVERING INDEX ix_event_source_file_seq" in plan
    engine.dispose()

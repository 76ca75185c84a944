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
    store = Store(make_engine(db_url))
    ingest_paths([SAMPLE_RUNS / "acf", SAMPLE_RUNS / "loopengt"], store)
    version = [m.__name__ for m in MIGRATIONS].index("_drop_covered_run_indexes") + 1
    with store.engine.begin() as connection:  # the database as the version before made it
        connection.execute(text("CREATE INDEX ix_run_framework ON run (framework)"))
        connection.execute(text("CREATE INDEX ix_run_status ON run (status)"))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()

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
    store = Store(make_engine(db_url))
    ingest_paths([SAMPLE_RUNS / "acf"], store)
    version = [m.__name__ for m in MIGRATIONS].index("_drop_checkpoint_parent_index") + 1
    with store.engine.begin() as connection:  # the database as the version before made it
        connection.execute(text("CREATE INDEX ix_checkpoint_parent_id ON checkpoint (parent_id)"))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()

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
    find the next seq; a database made before gets the (file, seq) index in its place, and a
    log that grows after the migration numbers its new events on from the old ones."""
    from core.store.lookups import next_seq

    log = SAMPLE_RUNS / "otel" / "genai_agent.jsonl"
    store = Store(make_engine(db_url))
    ingest_paths([log], store)
    version = [m.__name__ for m in MIGRATIONS].index("_index_events_by_file_and_seq") + 1
    with store.engine.begin() as connection:  # the database as the version before made it
        connection.execute(text("DROP INDEX ix_event_source_file_seq"))
        connection.execute(text("CREATE INDEX ix_event_source_file_id ON event (source_file_id)"))
        connection.execute(text(f"DELETE FROM baton_schema WHERE version >= {version}"))
    store.engine.dispose()

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

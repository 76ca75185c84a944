"""SQLModel tables: the one place the schema is declared.

JSON columns are JSON on SQLite and JSONB on PostgreSQL (plain ``json`` breaks DISTINCT).
Datetimes are timezone-aware UTC. Runs carry denormalized counts so that the Runs page
can filter and page 100k runs without joins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Aware UTC in, aware UTC out, on every database (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Baton stores timezone-aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_column(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JsonType, nullable=nullable))


def time_column(index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index))


class SourceFile(SQLModel, table=True):
    __tablename__ = "source_file"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True)
    format: str | None = None
    framework: str | None = None
    size: int = Field(default=0, sa_type=BigInteger)
    mtime_ns: int = Field(default=0, sa_type=BigInteger)
    content_hash: str | None = None
    outcome: str = Field(index=True)  # loaded, ignored, failed, deleted
    error: str | None = None
    error_line: int | None = None
    warnings: list[str] | None = json_column()
    read_offset: int = Field(default=0, sa_type=BigInteger)  # bytes consumed (append-only tails)
    line_count: int = 0
    # A loaded file's lines that are not JSON: [line, reason] of the first ones, and how many.
    bad_lines: list[list[Any]] | None = json_column()
    bad_line_count: int | None = None
    seen_at: datetime | None = time_column(index=True)  # max() is the data version
    loaded_at: datetime | None = time_column()


class Run(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (UniqueConstraint("framework", "native_id"),)

    id: str = Field(primary_key=True)
    # Filters by framework or status use the (framework, started_at) and (status,
    # started_at) indexes of core.migrations: an index of the column alone would only add
    # work to every insert.
    framework: str
    native_id: str
    status: str = "unknown"
    task: str | None = None
    agents: list[str] | None = json_column()
    started_at: datetime | None = time_column(index=True)
    ended_at: datetime | None = time_column()
    input_tokens: int | None = Field(default=None, sa_type=BigInteger)
    output_tokens: int | None = Field(default=None, sa_type=BigInteger)
    cache_read_tokens: int | None = Field(default=None, sa_type=BigInteger)
    cache_write_tokens: int | None = Field(default=None, sa_type=BigInteger)
    reported_cost_usd: float | None = None
    failure_reason: str | None = None
    failure_signals: dict[str, Any] | None = json_column()
    attributes: dict[str, Any] | None = json_column()
    inferred: list[str] | None = json_column()
    checkpoint_count: int = 0
    event_count: int = 0
    # Indexed: core.rollup finds the runs changed since its last refresh by it.
    updated_at: datetime | None = time_column(index=True)


class RunRollup(SQLModel, table=True):
    """What the dashboard aggregates in SQL, per run: its cost (priced with the prices whose
    fingerprint is stored) and its failure analysis. Derived, never a source of truth:
    ``core.rollup`` recomputes a run's row when its ``updated_at`` or the prices change."""

    __tablename__ = "run_rollup"

    run_id: str = Field(primary_key=True)
    as_of: datetime | None = time_column()  # the run's updated_at when this was computed
    fingerprint: str = ""
    cost_usd: float | None = Field(default=None, index=True)
    cost_provenance: str | None = None
    calls: int = 0
    unpriced_calls: int = 0
    unpriced_tokens: int = 0
    failure_class: str | None = None
    normalized_reason: str | None = None
    reason: str | None = None
    # Indexed by core.migrations (newest first, as the Overview reads its latest failures).
    failed_at: datetime | None = time_column()
    failure: dict[str, Any] | None = json_column()


class RollupState(SQLModel, table=True):
    """How far ``run_rollup`` got: the prices it was computed with, the newest run
    ``updated_at`` it has seen, and counters bumped whenever its costs or its failures
    changed (so a page that shows only costs reruns only when they did)."""

    __tablename__ = "rollup_state"

    name: str = Field(primary_key=True)
    fingerprint: str = ""
    watermark: datetime | None = time_column()
    checked_at: datetime | None = time_column()  # when the last complete refresh read the runs
    costs_version: int = 0
    failures_version: int = 0


class WatchedFolder(SQLModel, table=True):
    """A folder a user added on the dashboard's Ingest page: watched from then on, by every
    dashboard on this database, until removed (``core.watched_folders``)."""

    __tablename__ = "watched_folder"

    path: str = Field(primary_key=True)
    added_at: datetime | None = time_column()


class RunCostPart(SQLModel, table=True):
    """A run's model calls summed by agent, model and day (UTC), priced: every grouping of
    the Costs page is one GROUP BY over these rows (``core.rollup``)."""

    __tablename__ = "run_cost_part"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    framework: str | None = None
    agent: str | None = None
    model: str | None = None
    day: str | None = None
    calls: int = 0
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_read_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_write_tokens: int = Field(default=0, sa_type=BigInteger)
    reported_usd: float = 0.0
    reported_calls: int = 0
    computed_usd: float = 0.0
    computed_calls: int = 0
    unpriced_calls: int = 0
    unpriced_tokens: int = Field(default=0, sa_type=BigInteger)
    prices: dict[str, str] | None = json_column()


class RunFragment(SQLModel, table=True):
    """What one file said about one run; runs are recomputed from their fragments."""

    __tablename__ = "run_fragment"

    id: int | None = Field(default=None, primary_key=True)
    source_file_id: int = Field(foreign_key="source_file.id", index=True)
    run_id: str = Field(index=True)
    priority: int = 0
    as_of: datetime | None = time_column()
    data: dict[str, Any] | None = json_column()


class RunJoin(SQLModel, table=True):
    """A run one file describes that is part of another file's run when the database holds
    it (``RunRecord.join_keys``: a techrevati worker dump and its session's event stream),
    one row per key. ``run_id`` is the run its fragment and events are stored as now: its
    own (``own_run_id``) or the one it joined (``core.store.joins``)."""

    __tablename__ = "run_join"

    id: int | None = Field(default=None, primary_key=True)
    source_file_id: int = Field(foreign_key="source_file.id", index=True)
    framework: str
    join_key: str = Field(index=True)
    native_id: str  # the run's own native id
    own_run_id: str
    started_at: datetime | None = time_column()
    ended_at: datetime | None = time_column()
    run_id: str


class Checkpoint(SQLModel, table=True):
    __tablename__ = "checkpoint"

    id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True)
    source_file_id: int | None = Field(default=None, foreign_key="source_file.id", index=True)
    native_id: str
    parent_native_id: str | None = None
    # Not indexed: parents are followed in Python over a run's checkpoints (read by run_id);
    # no query looks a checkpoint up by its parent, and every insert paid for the entry.
    parent_id: str | None = None
    chain_key: str | None = None
    agent_id: str | None = None
    status: str = "unknown"
    step: int | None = None
    created_at: datetime | None = time_column()
    completed_steps: list[Any] | None = json_column()
    remaining_steps: list[Any] | None = json_column()
    failure_reason: str | None = None
    summary: str | None = None
    attributes: dict[str, Any] | None = json_column()
    inferred: list[str] | None = json_column()
    versioned: bool = False
    document: Any = json_column()


class CheckpointSource(SQLModel, table=True):
    """Files that hold a checkpoint besides the one whose copy is stored (the same document
    may sit in a ``.json`` file and a JSONL log). ``checkpoint.source_file_id`` names the
    stored one; only the other holders get a row, so a checkpoint in one file costs nothing
    here. A file that stops holding the checkpoint drops only its own link; when it was the
    stored one, the checkpoint passes to another holder, and it goes when no file holds it."""

    __tablename__ = "checkpoint_source"

    checkpoint_id: str = Field(primary_key=True)
    source_file_id: int = Field(primary_key=True, index=True)


class EventSource(SQLModel, table=True):
    """Files that hold an event whose stored copy is another file's (the same event, by its
    native id, in a trace and in a copy of it). Only such extra holders get a row, so an
    event in one file costs nothing here. When the file whose copy is stored stops holding
    the event, the event passes to one of these files instead of going."""

    __tablename__ = "event_source"

    event_id: str = Field(primary_key=True)
    source_file_id: int = Field(primary_key=True, index=True)


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_run_at", "run_id", "at"),
        Index("ix_event_run_kind", "run_id", "kind"),
        # By file, then seq: a file's appended lines number on from its last event's seq,
        # found in the index (not by reading all of a long log's events on every append).
        Index("ix_event_source_file_seq", "source_file_id", "seq"),
    )

    id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="run.id")
    source_file_id: int | None = Field(default=None, foreign_key="source_file.id")
    seq: int = 0
    native_id: str | None = None
    parent_native_id: str | None = None
    kind: str = Field(index=True)
    name: str
    at: datetime | None = time_column()
    agent_id: str | None = None
    step: str | None = None
    tool: str | None = None
    model: str | None = None
    input_tokens: int | None = Field(default=None, sa_type=BigInteger)
    output_tokens: int | None = Field(default=None, sa_type=BigInteger)
    cache_read_tokens: int | None = Field(default=None, sa_type=BigInteger)
    cache_write_tokens: int | None = Field(default=None, sa_type=BigInteger)
    cost_usd: float | None = None
    duration_s: float | None = None
    error: str | None = None
    data: Any = json_column()


class Price(SQLModel, table=True):
    """A price found in an ingested file (USD per 1M tokens)."""

    __tablename__ = "price"

    id: int | None = Field(default=None, primary_key=True)
    source_file_id: int | None = Field(default=None, foreign_key="source_file.id", index=True)
    model: str = Field(index=True)
    input_per_million: float | None = None
    output_per_million: float | None = None
    cache_read_per_million: float | None = None
    cache_write_per_million: float | None = None
    cache_write_5min_per_million: float | None = None
    cache_write_1h_per_million: float | None = None
    source: str = ""


class AgentManifest(SQLModel, table=True):
    __tablename__ = "agent_manifest"

    id: int | None = Field(default=None, primary_key=True)
    source_file_id: int | None = Field(default=None, foreign_key="source_file.id", index=True)
    agent_id: str = Field(index=True)
    capabilities: list[str] | None = json_column()
    document: dict[str, Any] | None = json_column()


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "baton_schema"

    version: int = Field(primary_key=True)
    applied_at: datetime | None = time_column()


class ResumeExport(SQLModel, table=True):
    """One resume export: when, from which checkpoint, with which options, to where. No
    foreign key: the log outlives a checkpoint that a re-ingest replaces."""

    __tablename__ = "resume_export"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime | None = time_column(index=True)
    checkpoint_id: str = Field(index=True)
    run_id: str | None = Field(default=None, index=True)
    framework: str | None = None
    format: str
    document_id: str | None = None  # the new ACF checkpoint_id, or the native key / checkpoint id
    destination: str  # file path, "stdout" or "download"
    options: dict[str, Any] | None = json_column()
    redacted: int = 0
    trimmed: bool = False
    size_bytes: int = 0

"""Plain records that parsers emit and the store turns into rows.

Records are framework-neutral. A parser fills what its source knows and leaves the rest
``None``; it never invents a value. Values the parser inferred rather than read (a status
guessed from a file left on disk, say) are listed in ``inferred``.

Timestamps are timezone-aware UTC. A source timestamp without an offset is read as UTC
(see :func:`core.timeutil.parse_timestamp`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RUN_STATUSES = ("running", "paused", "waiting", "failed", "completed", "unknown")

EVENT_KINDS = (
    "lifecycle",  # start, stop, pause, resume, status change
    "step",  # a step of the agent loop or a plan task
    "llm_call",  # a model call (may carry model, tokens, cost)
    "tool_call",  # a tool call or tool result
    "handoff",  # work passed from one agent to another
    "checkpoint",  # a checkpoint saved or loaded
    "error",  # something failed
    "recovery",  # a recovery attempt or outcome
    "usage",  # a usage/cost record without a call of its own
    "custom",  # anything else the source records
    "agent",  # an agent's invocation (an OTel agent span): its calls nest under it
)


@dataclass(slots=True)
class RunRecord:
    """What one file says about one run. Several files may describe the same run; the
    store merges them (higher ``priority`` wins field by field, agents are united,
    start is the earliest and end the latest)."""

    framework: str
    native_id: str
    priority: int = 0
    # When this fragment's information is from; among equal priorities the newest wins.
    as_of: datetime | None = None
    status: str | None = None
    task: str | None = None
    agents: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None  # only a cost the source itself reported
    failure_reason: str | None = None
    # Raw framework signals kept for the failure taxonomy (error_kind, failure_class, ...).
    failure_signals: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    inferred: list[str] = field(default_factory=list)
    # Keys of the run this one is part of when the database holds it (``core.store.joins``):
    # a run of the same framework whose native id is ``<key>@...`` and whose own files' time
    # window overlaps this run's (``started_at`` to ``ended_at``; no end: still open). Its
    # fragment and events are stored as that run's then, as their own again when it goes.
    join_keys: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CheckpointRecord:
    """One checkpoint: the normalized view plus the original document, untouched."""

    framework: str
    run_native_id: str
    native_id: str
    document: Any
    parent_native_id: str | None = None
    agent_id: str | None = None
    status: str | None = None  # one of RUN_STATUSES
    step: int | None = None
    created_at: datetime | None = None
    completed_steps: list[Any] = field(default_factory=list)
    remaining_steps: list[Any] = field(default_factory=list)
    failure_reason: str | None = None
    summary: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    inferred: list[str] = field(default_factory=list)
    # Checkpoints of one run with the same chain key and no explicit parent are chained
    # by the store in created_at order (loopengt checkpoints, versions of a harness key).
    chain_key: str | None = None
    # True for sources that overwrite one file in place (react-agent-harness): every
    # distinct content is kept as a version, even after the file changes or disappears.
    versioned: bool = False


@dataclass(slots=True)
class EventRecord:
    """Something that happened in a run at a time."""

    framework: str
    run_native_id: str
    kind: str  # one of EVENT_KINDS
    name: str  # the source's own event type
    native_id: str | None = None
    parent_native_id: str | None = None
    at: datetime | None = None
    agent_id: str | None = None
    step: str | None = None
    tool: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None  # only a cost the source itself reported
    duration_s: float | None = None
    error: str | None = None
    data: Any = None


@dataclass(slots=True)
class PriceRecord:
    """A model price found in an ingested file, in USD per 1M tokens."""

    model: str
    input_per_million: float | None = None
    output_per_million: float | None = None
    cache_read_per_million: float | None = None
    cache_write_per_million: float | None = None
    # Anthropic-style cache writes by lifetime (techrevati 0.4 pricing files).
    cache_write_5min_per_million: float | None = None
    cache_write_1h_per_million: float | None = None
    source: str = ""


@dataclass(slots=True)
class ParsedFile:
    """Everything one file contributes."""

    format: str
    runs: list[RunRecord] = field(default_factory=list)
    checkpoints: list[CheckpointRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    prices: list[PriceRecord] = field(default_factory=list)
    # Agent self-descriptions (ACF 0.3.0 manifests): agent_id, capabilities, ...
    manifests: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Set by a parser given only the new lines of an append-only file when those lines
    # change something only the whole file can say (a loopengt trace's list of attempts):
    # the loader then reads the whole file instead.
    whole_file_needed: bool = False
    # What a parser that can re-read part of a changed file (``FormatSpec.reread``) needs
    # of this read next time: stored as the file's (content_hash, read_offset, line_count).
    read_state: tuple[str, int, int] | None = None

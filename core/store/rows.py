"""A write batch's records as table rows: pure functions, no database.

Everything here runs before the write lock is taken. ``source_file_id`` holds the file's
path until the batch, under the lock, knows the files' ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core import ids
from core.outcomes import FileOutcome, bad_lines_note


def _shallow(record: Any) -> dict[str, Any]:
    """A record's fields as a dict. Not ``dataclasses.asdict``: its deep copy was the top
    cost of a cold ingest, and rows are serialized right away anyway."""
    return {name: getattr(record, name) for name in record.__slots__}


def _stated(record: Any) -> dict[str, Any]:
    """The fields a record states: no None and no empty list or dict. A run fragment is
    stored this way (readers take a missing key as None); it halves the fragment's JSON."""
    stated = {}
    for name in record.__slots__:
        value = getattr(record, name)
        if value is not None and value != [] and value != {}:
            stated[name] = value
    return stated


@dataclass
class BatchRows:
    """A write batch's records as table rows (fragment ``data`` keeps its datetimes)."""

    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> identity columns
    fragments: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    checkpoint_holders: list[tuple[str, Any]] = field(default_factory=list)  # (checkpoint, file)
    event_holders: list[tuple[str, Any]] = field(default_factory=list)  # (event with native id, file)
    events: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    joins: list[dict[str, Any]] = field(default_factory=list)  # ``run_join`` rows, one per key
    _run_ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def run(self, framework: str, native_id: str) -> str:
        """The run's id, computed once per batch (a trace file names its run per event)."""
        key = self._run_ids.get((framework, native_id))
        if key is None:
            key = self._run_ids[framework, native_id] = ids.run_id(framework, native_id)
            self.runs.setdefault(key, {"id": key, "framework": framework, "native_id": native_id})
        return key


def batch_rows(loaded: Iterable[FileOutcome], append_bases: dict[str, int]) -> BatchRows:
    """The batch's records as rows; ``source_file_id`` holds the file's path until
    the batch puts in the id under the write lock."""
    rows = BatchRows()
    # Checkpoint ids by (run, native id): a checkpoint's parent is most often the one before
    # it, whose id was computed already (a blake2b each, twice per checkpoint otherwise).
    checkpoint_ids: dict[tuple[str, str], str] = {}

    def checkpoint_id(run: str, native_id: str) -> str:
        key = (run, native_id)
        found = checkpoint_ids.get(key)
        if found is None:
            found = checkpoint_ids[key] = ids.checkpoint_id(run, native_id)
        return found

    for outcome in loaded:
        parsed = outcome.parsed
        assert parsed is not None
        file_id = outcome.path  # resolved to the id inside the transaction
        for record in parsed.runs:
            run = rows.run(record.framework, record.native_id)
            # ``data`` also feeds the run merge: the JSON column writes its datetimes as ISO text.
            rows.fragments.append(
                {
                    "source_file_id": file_id,
                    "run_id": run,
                    "priority": record.priority,
                    "as_of": record.as_of,
                    "data": _stated(record),
                }
            )
            for key in dict.fromkeys(record.join_keys):
                rows.joins.append(
                    {
                        "source_file_id": file_id,
                        "framework": record.framework,
                        "join_key": key,
                        "native_id": record.native_id,
                        "own_run_id": run,
                        "started_at": record.started_at,
                        "ended_at": record.ended_at,
                        "run_id": run,
                    }
                )
        for cp in parsed.checkpoints:
            run = rows.run(cp.framework, cp.run_native_id)
            rows.checkpoints.append(
                {
                    "id": checkpoint_id(run, cp.native_id),
                    "run_id": run,
                    "source_file_id": file_id,
                    "native_id": cp.native_id,
                    "parent_native_id": cp.parent_native_id,
                    "parent_id": checkpoint_id(run, cp.parent_native_id) if cp.parent_native_id else None,
                    "chain_key": cp.chain_key,
                    "agent_id": cp.agent_id,
                    "status": cp.status or "unknown",
                    "step": cp.step,
                    "created_at": cp.created_at,
                    "completed_steps": cp.completed_steps,
                    "remaining_steps": cp.remaining_steps,
                    "failure_reason": cp.failure_reason,
                    "summary": cp.summary,
                    "attributes": cp.attributes,
                    "inferred": cp.inferred,
                    "versioned": cp.versioned,
                    "document": cp.document,
                }
            )
        base_seq = append_bases.get(outcome.path, 0) if outcome.append else 0
        for seq, ev in enumerate(parsed.events, start=base_seq):
            run = rows.run(ev.framework, ev.run_native_id)
            row = _shallow(ev)
            del row["framework"], row["run_native_id"]
            row.update(
                id=ids.event_id(run, ev.native_id, outcome.path, seq),
                run_id=run,
                source_file_id=file_id,
                seq=seq,
            )
            rows.events.append(row)
        for price in parsed.prices:
            rows.prices.append(
                _shallow(price) | {"source_file_id": file_id, "source": price.source or outcome.path}
            )
        for manifest in parsed.manifests:
            rows.manifests.append(
                {
                    "source_file_id": file_id,
                    "agent_id": manifest.get("agent_id"),
                    "capabilities": manifest.get("capabilities"),
                    "document": manifest,
                }
            )
    rows.checkpoint_holders = list({(cp["id"], cp["source_file_id"]): None for cp in rows.checkpoints})
    rows.checkpoints = dedupe(rows.checkpoints)
    # Only events with a native id can be held by two files (other ids include the path).
    rows.event_holders = list(
        {(ev["id"], ev["source_file_id"]): None for ev in rows.events if ev["native_id"]}
    )
    rows.events = keep_fullest(rows.events)
    return rows


# What one copy of an event can state that another lacks: a loopengt trace line has token
# counts and the model, the same event in its traces.db has neither.
EVENT_CONTEXT = ("at", "agent_id", "step", "tool", "model", "duration_s", "error")
EVENT_USAGE = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")
EVENT_DETAILS = EVENT_CONTEXT + EVENT_USAGE


def stated_details(row: Any) -> tuple[int, int]:
    """How many of EVENT_DETAILS a copy of an event states, then how many tokens it counts:
    of two copies stating as much, the one with the larger usage is the fuller (a response
    Claude Code streams into several lines repeats its usage, growing)."""
    tokens = sum(row[name] or 0 for name in EVENT_USAGE[:4])
    return sum(row[name] is not None for name in EVENT_DETAILS), tokens


def keep_fullest(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per event id: the copy that states the most details (the last of equals)."""
    kept: dict[str, dict[str, Any]] = {}
    for event in events:
        other = kept.get(event["id"])
        if other is None or stated_details(event) >= stated_details(other):
            kept[event["id"]] = event
    return list(kept.values())


def file_rows(outcomes: Sequence[FileOutcome]) -> list[dict[str, Any]]:
    """The ``source_file`` rows of a batch, one per path (seen_at and loaded_at are added
    under the write lock)."""
    rows = [
        {
            "path": o.path,
            "format": o.format,
            "framework": o.framework,
            "size": o.size,
            "mtime_ns": o.mtime_ns,
            "content_hash": o.content_hash,
            "outcome": o.outcome,
            # A loaded file's bad lines are its outcome's note, and its line the first of them.
            "error": o.error if o.error or not o.bad_line_count else bad_lines_note(o.bad_line_count),
            "error_line": o.error_line if o.error or not o.bad_line_count else o.bad_lines[0][0],
            "warnings": o.warnings,
            "bad_lines": [list(bad) for bad in o.bad_lines] or None,
            "bad_line_count": o.bad_line_count or None,
            "read_offset": o.read_offset,  # reset when failed or gone: next read is whole
            "line_count": o.line_count,
        }
        for o in outcomes
    ]
    return dedupe(rows, "path")


def dedupe(rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """Keep the last row per key: one statement may not upsert the same key twice."""
    return list({row[key]: row for row in rows}.values())

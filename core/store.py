"""Records to rows: bulk, idempotent, many files per transaction.

The loader hands over a batch of file outcomes; ``write_batch`` applies it in one
transaction so a reader never sees half a file. A file that loads again replaces exactly
what it contributed before (except versioned checkpoints, which keep their history); a
file that fails keeps what it loaded earlier; a deleted file keeps its records and is
marked ``deleted`` (the runs it described still happened), except a run status it only
inferred from being on disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from core import ids
from core.bulk import bulk_insert
from core.records import ParsedFile, RunRecord
from core.runmerge import merge_fragments
from core.tables import AgentManifest, Checkpoint, Event, Price, Run, RunFragment, SourceFile
from core.timeutil import parse_timestamp, utcnow

CHUNK = 500
OWNED_TABLES = (RunFragment, Event, Price, AgentManifest)


@dataclass(slots=True)
class FileOutcome:
    """What happened to one file in an ingest pass."""

    path: str
    outcome: str  # loaded, ignored, failed, deleted
    size: int = 0
    mtime_ns: int = 0
    content_hash: str | None = None
    format: str | None = None
    framework: str | None = None
    error: str | None = None
    error_line: int | None = None
    warnings: list[str] = field(default_factory=list)
    parsed: ParsedFile | None = None
    read_offset: int = 0
    line_count: int = 0
    append: bool = False  # new lines of an append-only file: add, do not replace


@dataclass(frozen=True, slots=True)
class KnownFile:
    """What the database remembers of one file (see ``Store.known_files``)."""

    size: int
    mtime_ns: int
    content_hash: str | None
    outcome: str
    read_offset: int = 0  # bytes consumed, for append-only files tailed from an offset
    format: str | None = None
    line_count: int = 0


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(connection: Connection, table: Any) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _shallow(record: Any) -> dict[str, Any]:
    """A record's fields as a dict. Not ``dataclasses.asdict``: its deep copy was the top
    cost of a cold ingest, and rows are serialized right away anyway."""
    return {name: getattr(record, name) for name in record.__slots__}


def _fragment_data(record: RunRecord) -> dict[str, Any]:
    data = _shallow(record)
    for key in ("as_of", "started_at", "ended_at"):
        data[key] = _iso(data[key])
    return data


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def database_path(self) -> str | None:
        """The SQLite file behind this store (never ingested as an input), else None."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return os.path.realpath(database)

    def known_files(
        self, paths: Iterable[str] | None = None, under: str | None = None
    ) -> dict[str, KnownFile]:
        """What was recorded of every file seen (or only of ``paths``, or of the files below
        the folder ``under``): path -> KnownFile."""
        columns = (
            SourceFile.path,
            SourceFile.size,
            SourceFile.mtime_ns,
            SourceFile.content_hash,
            SourceFile.outcome,
            SourceFile.read_offset,
            SourceFile.format,
            SourceFile.line_count,
        )
        with self.engine.connect() as connection:
            if paths is None:
                query = select(*columns)
                if under is not None:
                    query = query.where(SourceFile.path.startswith(under.rstrip("/") + "/", autoescape=True))
                return {row[0]: KnownFile(*row[1:]) for row in connection.execute(query)}
            known: dict[str, KnownFile] = {}
            for part in chunks(list(paths)):
                for row in connection.execute(select(*columns).where(SourceFile.path.in_(part))):
                    known[row[0]] = KnownFile(*row[1:])
            return known

    def write_batch(self, outcomes: Sequence[FileOutcome]) -> set[str]:
        """Apply a batch in one transaction; return the ids of the runs it touched."""
        if not outcomes:
            return set()
        with self.engine.begin() as connection:
            loaded = [o for o in outcomes if o.outcome == "loaded" and o.parsed is not None]
            # Only files loaded before can own records to replace; new files skip the deletes.
            previously = self._file_ids(connection, [o.path for o in loaded if not o.append])
            file_ids = self._upsert_files(connection, outcomes)
            replaced = list(previously.values())
            touched = self._delete_owned(connection, replaced)
            gone = [file_ids[o.path] for o in outcomes if o.outcome == "deleted" and o.path in file_ids]
            touched |= self._drop_inferred_status(connection, gone)
            touched |= self._insert_records(connection, loaded, file_ids)
            self._refresh_runs(connection, touched)
        return touched

    # -- files ---------------------------------------------------------------------------
    def _upsert_files(self, connection: Connection, outcomes: Sequence[FileOutcome]) -> dict[str, int]:
        now = utcnow()
        rows = []
        for o in outcomes:
            row = {
                "path": o.path,
                "format": o.format,
                "framework": o.framework,
                "size": o.size,
                "mtime_ns": o.mtime_ns,
                "content_hash": o.content_hash,
                "outcome": o.outcome,
                "error": o.error,
                "error_line": o.error_line,
                "warnings": o.warnings,
                "read_offset": o.read_offset,
                "line_count": o.line_count,
                "seen_at": now,
                "loaded_at": now if o.outcome == "loaded" else None,
            }
            rows.append(row)
        statement = _insert(connection, SourceFile.__table__)
        # (read_offset/line_count are reset: a file that failed or vanished is next read whole.)
        keep_when_failed = ("format", "framework", "loaded_at")
        set_ = {}
        for column in rows[0]:
            if column == "path":
                continue
            if column in keep_when_failed:
                # A failed or deleted file keeps what describes its last good load.
                set_[column] = func.coalesce(statement.excluded[column], SourceFile.__table__.c[column])
            else:
                set_[column] = statement.excluded[column]
        connection.execute(statement.on_conflict_do_update(index_elements=["path"], set_=set_), rows)
        return self._file_ids(connection, [o.path for o in outcomes])

    @staticmethod
    def _file_ids(connection: Connection, paths: list[str]) -> dict[str, int]:
        file_ids: dict[str, int] = {}
        for part in chunks(paths):
            query = select(SourceFile.path, SourceFile.id).where(SourceFile.path.in_(part))
            file_ids.update(dict(connection.execute(query).all()))
        return file_ids

    def _delete_owned(self, connection: Connection, file_ids: list[int]) -> set[str]:
        touched: set[str] = set()
        for part in chunks(file_ids):
            for table in (RunFragment, Checkpoint, Event):
                touched.update(
                    connection.execute(
                        select(table.run_id).where(table.source_file_id.in_(part)).distinct()
                    ).scalars()
                )
            for table in OWNED_TABLES:
                connection.execute(delete(table).where(table.source_file_id.in_(part)))
            connection.execute(
                delete(Checkpoint).where(Checkpoint.source_file_id.in_(part), Checkpoint.versioned.is_(False))
            )
        return touched

    def _drop_inferred_status(self, connection: Connection, file_ids: list[int]) -> set[str]:
        """A deleted file's run fragments stop claiming a status they only inferred.

        The inference was drawn from the file being on disk (react-agent-harness leaves a
        checkpoint behind on a crash and deletes it on success); once the file is gone it is
        no evidence. The status, with the failure it implied, is taken out of the fragment;
        everything else it stated (task, agents, times, tokens) and its checkpoints stay."""
        touched: set[str] = set()
        for part in chunks(file_ids):
            query = select(RunFragment.id, RunFragment.run_id, RunFragment.data).where(
                RunFragment.source_file_id.in_(part)
            )
            changes = []
            for row in connection.execute(query):
                data = dict(row.data or {})
                inferred = list(data.get("inferred") or ())
                if "status" not in inferred:
                    continue
                inferred.remove("status")
                data.update(status=None, failure_reason=None, failure_signals={}, inferred=inferred)
                changes.append({"b_id": row.id, "data": data})
                touched.add(row.run_id)
            if changes:
                table = RunFragment.__table__
                statement = (
                    update(table).where(table.c.id == bindparam("b_id")).values(data=bindparam("data"))
                )
                connection.execute(statement, changes)
        return touched

    # -- records -------------------------------------------------------------------------
    @staticmethod
    def _next_seq(connection: Connection, file_id: int) -> int:
        """Appended events number on after the file's earlier ones (ids never collide)."""
        last = connection.execute(select(func.max(Event.seq)).where(Event.source_file_id == file_id)).scalar()
        return 0 if last is None else int(last) + 1

    def _insert_records(
        self, connection: Connection, loaded: Iterable[FileOutcome], file_ids: dict[str, int]
    ) -> set[str]:
        runs: dict[str, dict[str, Any]] = {}
        fragments, checkpoints, events, prices, manifests = [], [], [], [], []

        def ensure_run(framework: str, native_id: str) -> str:
            key = ids.run_id(framework, native_id)
            runs.setdefault(
                key, {"id": key, "framework": framework, "native_id": native_id, "status": "unknown"}
            )
            return key

        for outcome in loaded:
            parsed = outcome.parsed
            assert parsed is not None
            file_id = file_ids[outcome.path]
            for record in parsed.runs:
                run = ensure_run(record.framework, record.native_id)
                fragments.append(
                    {
                        "source_file_id": file_id,
                        "run_id": run,
                        "priority": record.priority,
                        "as_of": record.as_of,
                        "data": _fragment_data(record),
                    }
                )
            for cp in parsed.checkpoints:
                run = ensure_run(cp.framework, cp.run_native_id)
                checkpoints.append(
                    {
                        "id": ids.checkpoint_id(run, cp.native_id),
                        "run_id": run,
                        "source_file_id": file_id,
                        "native_id": cp.native_id,
                        "parent_native_id": cp.parent_native_id,
                        "parent_id": ids.checkpoint_id(run, cp.parent_native_id)
                        if cp.parent_native_id
                        else None,
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
            base_seq = self._next_seq(connection, file_id) if outcome.append else 0
            for seq, ev in enumerate(parsed.events, start=base_seq):
                run = ensure_run(ev.framework, ev.run_native_id)
                row = _shallow(ev)
                del row["framework"], row["run_native_id"]
                row.update(
                    id=ids.event_id(run, ev.native_id, outcome.path, seq),
                    run_id=run,
                    source_file_id=file_id,
                    seq=seq,
                )
                events.append(row)
            for price in parsed.prices:
                prices.append(
                    _shallow(price) | {"source_file_id": file_id, "source": price.source or outcome.path}
                )
            for manifest in parsed.manifests:
                manifests.append(
                    {
                        "source_file_id": file_id,
                        "agent_id": manifest.get("agent_id"),
                        "capabilities": manifest.get("capabilities"),
                        "document": manifest,
                    }
                )

        if runs:
            statement = _insert(connection, Run.__table__).on_conflict_do_nothing(index_elements=["id"])
            connection.execute(statement, list(runs.values()))
        bulk_insert(connection, RunFragment.__table__, fragments)
        for part in chunks(_dedupe(checkpoints), 2000):
            bulk_insert(connection, Checkpoint.__table__, part, conflict="update")
        bulk_insert(connection, Event.__table__, _dedupe(events), conflict="nothing")
        if prices:
            connection.execute(Price.__table__.insert(), prices)
        if manifests:
            connection.execute(AgentManifest.__table__.insert(), manifests)
        return set(runs)

    # -- derived run fields --------------------------------------------------------------
    def _refresh_runs(self, connection: Connection, run_ids: set[str]) -> None:
        for part in chunks(sorted(run_ids)):
            self._refresh_run_chunk(connection, list(part))

    def _refresh_run_chunk(self, connection: Connection, run_ids: list[str]) -> None:
        fragments: dict[str, list[dict[str, Any]]] = {run: [] for run in run_ids}
        query = select(RunFragment.run_id, RunFragment.data).where(RunFragment.run_id.in_(run_ids))
        for run, data in connection.execute(query):
            for key in ("as_of", "started_at", "ended_at"):
                data[key] = parse_timestamp(data.get(key))
            fragments[run].append(data)
        checkpoint_counts = dict(
            connection.execute(
                select(Checkpoint.run_id, func.count())
                .where(Checkpoint.run_id.in_(run_ids))
                .group_by(Checkpoint.run_id)
            ).all()
        )
        event_totals = {
            row[0]: row[1:]
            for row in connection.execute(
                select(
                    Event.run_id,
                    func.count(),
                    func.sum(Event.input_tokens),
                    func.sum(Event.output_tokens),
                    func.sum(Event.cache_read_tokens),
                    func.sum(Event.cache_write_tokens),
                    func.sum(Event.cost_usd),
                    func.min(Event.at),
                    func.max(Event.at),
                )
                .where(Event.run_id.in_(run_ids))
                .group_by(Event.run_id)
            )
        }
        updates, orphans = [], []
        for run in run_ids:
            n_checkpoints = checkpoint_counts.get(run, 0)
            totals = event_totals.get(run)
            if not fragments[run] and not n_checkpoints and not totals:
                orphans.append(run)
                continue
            merged = merge_fragments(fragments[run])
            if totals:
                for index, name in enumerate(
                    ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd"),
                    start=1,
                ):
                    if merged[name] is None and totals[index] is not None:
                        merged[name] = totals[index]
                starts = [t for t in (merged["started_at"], parse_timestamp(totals[6])) if t]
                ends = [t for t in (merged["ended_at"], parse_timestamp(totals[7])) if t]
                merged["started_at"] = min(starts) if starts else None
                merged["ended_at"] = max(ends) if ends else None
            merged["reported_cost_usd"] = merged.pop("cost_usd")
            merged.update(
                b_id=run,
                checkpoint_count=n_checkpoints,
                event_count=totals[0] if totals else 0,
                updated_at=utcnow(),
            )
            updates.append(merged)
        if updates:
            table = Run.__table__
            values = {name: bindparam(name) for name in updates[0] if name != "b_id"}
            connection.execute(update(table).where(table.c.id == bindparam("b_id")).values(values), updates)
        if orphans:
            connection.execute(delete(Run).where(Run.id.in_(orphans)))
        self._link_chains(connection, run_ids)

    def _link_chains(self, connection: Connection, run_ids: list[str]) -> None:
        """Chain checkpoints that share a chain key and name no parent, by creation time."""
        query = select(
            Checkpoint.id,
            Checkpoint.run_id,
            Checkpoint.chain_key,
            Checkpoint.created_at,
            Checkpoint.native_id,
            Checkpoint.parent_id,
        ).where(
            Checkpoint.run_id.in_(run_ids),
            Checkpoint.chain_key.is_not(None),
            Checkpoint.parent_native_id.is_(None),
        )
        chains: dict[tuple[str, str], list[Any]] = {}
        for row in connection.execute(query):
            chains.setdefault((row.run_id, row.chain_key), []).append(row)
        changes = []
        for rows in chains.values():
            rows.sort(key=lambda r: (r.created_at.timestamp() if r.created_at else 0.0, r.native_id))
            previous = None
            for row in rows:
                if row.parent_id != previous:
                    changes.append({"b_id": row.id, "parent_id": previous})
                previous = row.id
        if changes:
            table = Checkpoint.__table__
            statement = (
                update(table).where(table.c.id == bindparam("b_id")).values(parent_id=bindparam("parent_id"))
            )
            connection.execute(statement, changes)


def _dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the last row per id: one statement may not upsert the same key twice."""
    return list({row["id"]: row for row in rows}.values())

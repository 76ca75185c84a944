"""Rows to plain dicts: what the CLI and the dashboard show. Nothing here writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.engine import Engine

from core.errors import Ambiguous, NotFound
from core.outcomes import warning_parts
from core.run_dicts import RUN_FIELDS, iso, run_to_dict
from core.tables import Checkpoint, Event, ResumeExport, Run, SourceFile


def list_runs(
    engine: Engine, status: str | None = None, framework: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    query = select(*[getattr(Run, f) for f in RUN_FIELDS])
    if status:
        query = query.where(Run.status == status)
    if framework:
        query = query.where(Run.framework == framework)
    query = query.order_by(Run.started_at.desc().nulls_last(), Run.id)
    if limit:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [run_to_dict(row) for row in connection.execute(query)]


def _resolve(engine: Engine, table: Any, ref: str, what: str, extra: Any = None) -> str:
    ref = ref.strip()
    if not ref:
        raise NotFound(f"no {what} id given")
    with engine.connect() as connection:
        for condition in (
            or_(table.id == ref, table.native_id == ref),
            or_(table.id.startswith(ref, autoescape=True), table.native_id.startswith(ref, autoescape=True)),
        ):
            query = select(table.id, table.native_id).where(condition)
            if extra is not None:
                query = query.where(extra)
            matches = connection.execute(query.limit(6)).all()
            if len(matches) == 1:
                return matches[0][0]
            if len(matches) > 1:
                shown = ", ".join(f"{m[0]} ({m[1]})" for m in matches[:5])
                raise Ambiguous(f"{what} id {ref!r} is ambiguous: it matches {shown}; give more characters")
    raise NotFound(f"no {what} with id {ref!r} (see 'baton runs' for the ids)")


def resolve_run_id(engine: Engine, ref: str) -> str:
    """An id as printed by ``baton runs``, a framework's own run id, or an unambiguous prefix."""
    return _resolve(engine, Run, ref, "run")


def resolve_checkpoint_id(engine: Engine, ref: str) -> str:
    return _resolve(engine, Checkpoint, ref, "checkpoint")


def get_run(engine: Engine, run_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            select(*[getattr(Run, f) for f in RUN_FIELDS]).where(Run.id == run_id)
        ).first()
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    return run_to_dict(row)


def checkpoint_to_dict(cp: Any, with_document: bool = False) -> dict[str, Any]:
    data = {
        "id": cp.id,
        "native_id": cp.native_id,
        "run_id": cp.run_id,
        "parent_id": cp.parent_id,
        "agent_id": cp.agent_id,
        "status": cp.status,
        "step": cp.step,
        "created_at": iso(cp.created_at),
        "completed_steps": cp.completed_steps or [],
        "remaining_steps": cp.remaining_steps or [],
        "failure_reason": cp.failure_reason,
        "summary": cp.summary,
        "attributes": cp.attributes or {},
        "inferred": cp.inferred or [],
    }
    if with_document:
        data["document"] = cp.document
    return data


def run_checkpoints(engine: Engine, run_id: str, with_documents: bool = False) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Checkpoint)
            .where(Checkpoint.run_id == run_id)
            .order_by(Checkpoint.created_at.nulls_first(), Checkpoint.native_id)
        ).all()
    return [checkpoint_to_dict(row, with_documents) for row in rows]


def get_checkpoint(engine: Engine, checkpoint_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(select(Checkpoint).where(Checkpoint.id == checkpoint_id)).first()
        source = None
        if row is not None and row.source_file_id is not None:
            source = connection.execute(
                select(SourceFile.path).where(SourceFile.id == row.source_file_id)
            ).scalar()
    if row is None:
        raise NotFound(f"no checkpoint with id {checkpoint_id!r}")
    return checkpoint_to_dict(row, with_document=True) | {"source_path": source}


def event_counts(engine: Engine, run_id: str) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Event.kind, func.count()).where(Event.run_id == run_id).group_by(Event.kind)
        ).all()
    return {kind: count for kind, count in sorted(rows)}


def failed_files(engine: Engine) -> list[dict[str, Any]]:
    """Files that failed to load, and each bad line of the files that loaded around them
    (``outcome`` says which), by path and line."""
    columns = (
        SourceFile.path,
        SourceFile.outcome,
        SourceFile.error_line,
        SourceFile.error,
        SourceFile.seen_at,
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(*columns, SourceFile.bad_lines, SourceFile.bad_line_count)
            .where(
                (SourceFile.outcome == "failed")
                | ((SourceFile.outcome == "loaded") & (SourceFile.bad_line_count > 0))
            )
            .order_by(SourceFile.path)
        ).all()
    found: list[dict[str, Any]] = []
    for r in rows:
        seen = iso(r.seen_at)
        if r.outcome == "failed":
            found.append(
                {"path": r.path, "line": r.error_line, "error": r.error, "seen_at": seen, "outcome": "failed"}
            )
            continue
        listed = r.bad_lines or []
        for line, reason in listed:
            found.append(
                {
                    "path": r.path,
                    "line": line,
                    "error": f"skipped: {reason}",
                    "seen_at": seen,
                    "outcome": "loaded",
                }
            )
        if r.bad_line_count > len(listed):
            more = r.bad_line_count - len(listed)
            error = f"skipped: {more} more bad line{'s' if more != 1 else ''}, not listed"
            found.append({"path": r.path, "line": None, "error": error, "seen_at": seen, "outcome": "loaded"})
    return found


def file_warnings(engine: Engine) -> list[dict[str, Any]]:
    """The warnings of files that loaded (a field no column can hold, an audit chain that
    does not verify...), one per entry, by path, in the shape of ``failed_files``' entries
    (``error`` starts with ``warning:``)."""
    has_some = SourceFile.warnings.isnot(None) & cast(SourceFile.warnings, Text).notin_(["[]", "null"])
    with engine.connect() as connection:
        rows = connection.execute(
            select(SourceFile.path, SourceFile.warnings, SourceFile.seen_at)
            .where((SourceFile.outcome == "loaded") & has_some)
            .order_by(SourceFile.path)
        ).all()
    found: list[dict[str, Any]] = []
    for r in rows:
        for warning in r.warnings or []:
            line, text = warning_parts(r.path, str(warning))
            found.append(
                {
                    "path": r.path,
                    "line": line,
                    "error": f"warning: {text}",
                    "seen_at": iso(r.seen_at),
                    "outcome": "loaded",
                }
            )
    return found


def file_outcome_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(SourceFile.outcome, func.count()).group_by(SourceFile.outcome)).all()
    return dict(rows)


def run_status_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(Run.status, func.count()).group_by(Run.status)).all()
    return dict(rows)


def source_files(engine: Engine, outcome: str | None = None) -> list[dict[str, Any]]:
    """Every file Baton has seen, with its outcome (loaded, ignored, failed, deleted) and reason."""
    query = select(SourceFile).order_by(SourceFile.path)
    if outcome:
        query = query.where(SourceFile.outcome == outcome)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        {
            "path": r.path,
            "format": r.format,
            "framework": r.framework,
            "outcome": r.outcome,
            "error": r.error,
            "error_line": r.error_line,
            "warnings": r.warnings or [],
            "bad_line_count": r.bad_line_count or 0,
            "seen_at": iso(r.seen_at),
            "loaded_at": iso(r.loaded_at),
        }
        for r in rows
    ]


def list_exports(
    engine: Engine, checkpoint_id: str | None = None, run_id: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The resume export log, newest first."""
    query = select(ResumeExport)
    if checkpoint_id:
        query = query.where(ResumeExport.checkpoint_id == checkpoint_id)
    if run_id:
        query = query.where(ResumeExport.run_id == run_id)
    query = query.order_by(ResumeExport.created_at.desc(), ResumeExport.id.desc())
    if limit:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        {
            "id": r.id,
            "created_at": iso(r.created_at),
            "checkpoint_id": r.checkpoint_id,
            "run_id": r.run_id,
            "framework": r.framework,
            "format": r.format,
            "document_id": r.document_id,
            "destination": r.destination,
            "options": r.options or {},
            "redacted": r.redacted,
            "trimmed": r.trimmed,
            "bytes": r.size_bytes,
        }
        for r in rows
    ]


def run_checkpoints_light(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """Like ``run_checkpoints`` without reading the documents (lineage graphs, pickers):
    the document column is most of a checkpoint's bytes."""
    columns = [c for c in Checkpoint.__table__.c if c.name != "document"]
    with engine.connect() as connection:
        rows = connection.execute(
            select(*columns)
            .where(Checkpoint.run_id == run_id)
            .order_by(Checkpoint.created_at.nulls_first(), Checkpoint.native_id)
        ).all()
    return [checkpoint_to_dict(row) for row in rows]


def data_version(engine: Engine) -> tuple[int, str]:
    """Changes whenever the ingester commits anything (every write upserts source_file rows
    with a fresh seen_at): what the dashboard polls to know it should redraw."""
    # Two statements: SQLite answers a lone max() from the seen_at index, but count() and
    # max() together make it visit every row.
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(SourceFile)).scalar_one()
        last = connection.execute(select(func.max(SourceFile.seen_at))).scalar()
    return int(count), str(last)


def run_framework_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(Run.framework, func.count()).group_by(Run.framework)).all())

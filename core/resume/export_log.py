"""The export log: one row per export, so a user can see what left Baton, when and where."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from core.resume.options import ExportOptions
from core.resume.result import ExportResult
from core.resume.source import ResumeSource
from core.tables import ResumeExport
from core.timeutil import utcnow


def record_export(
    engine: Engine, source: ResumeSource, result: ExportResult, options: ExportOptions, destination: str
) -> None:
    with engine.begin() as connection:
        connection.execute(
            ResumeExport.__table__.insert(),
            {
                "created_at": utcnow(),
                "checkpoint_id": source.checkpoint["id"],
                "run_id": source.run.get("id"),
                "framework": source.framework,
                "format": result.format,
                "document_id": result.document_id,
                "destination": destination,
                "options": options.as_dict(),
                "redacted": result.redaction.count,
                "trimmed": bool(result.trim and result.trim.trimmed),
                "size_bytes": len(result.to_bytes()),
            },
        )

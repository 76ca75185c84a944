"""What the resume panel keeps across reruns, in ``st.session_state``.

A live refresh (a new file arrived) reruns the page; what the user made must not change
under them: the export built for a choice keeps its ids until they ask for a new one, so
what is downloaded or written is what the preview shows, and the confirmation of a written
file stays, per run and checkpoint, until they write another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.resume.export import ExportResult
from core.resume.options import ExportOptions
from core.timeutil import utcnow

EXPORTS = "_baton_resume_exports"
WRITTEN = "_baton_resume_written"


def export_key(checkpoint_id: str, options: ExportOptions) -> tuple[Any, ...]:
    return (checkpoint_id, tuple(sorted(options.as_dict().items())))


def cached_export(
    checkpoint_id: str, options: ExportOptions, build: Callable[[], ExportResult]
) -> ExportResult:
    """One export per checkpoint and choice: built once, then the same ids on every rerun."""
    cache: dict[Any, ExportResult] = st.session_state.setdefault(EXPORTS, {})
    key = export_key(checkpoint_id, options)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def forget_export(checkpoint_id: str, options: ExportOptions) -> None:
    """The next rerun builds a new export (new ids) for this choice."""
    st.session_state.setdefault(EXPORTS, {}).pop(export_key(checkpoint_id, options), None)


def note_written(run_id: str, checkpoint_id: str, result: ExportResult) -> None:
    st.session_state.setdefault(WRITTEN, {})[(run_id, checkpoint_id)] = {
        "path": str(result.path),
        "format": result.format,
        "document_id": result.document_id,
        "bytes": len(result.to_bytes()),
        "written_at": utcnow().isoformat(),
        "command": result.command(),
        "error": None,
    }


def note_failed(run_id: str, checkpoint_id: str, error: str) -> None:
    st.session_state.setdefault(WRITTEN, {})[(run_id, checkpoint_id)] = {"error": error}


def written(run_id: str, checkpoint_id: str) -> dict[str, Any] | None:
    """The last write of this run's checkpoint in this session, or its error."""
    return st.session_state.get(WRITTEN, {}).get((run_id, checkpoint_id))

"""Run page panel: preview, choose, download or write a resume checkpoint, copy the native
resume command, and see past exports.

Only widgets; the database is reached through ``dashboard.data``, the export itself is built
and written by ``core.resume`` (pure functions and files, no database). Text
from an input file is shown with ``st.json``/``st.code``/``st.text`` (never markdown or HTML).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import UserError
from core.frameworks.registry import lookup
from core.resume.export import NATIVE_FORMATS, ExportResult, build_export, write_export
from core.resume.options import RETRY_STRATEGIES, ExportOptions
from core.resume.outbox import default_outbox
from core.resume.source import ResumeSource
from core.resume.trim import DEFAULT_MAX_BYTES
from dashboard import data

DEFAULT = "default"


def _choices(source: ResumeSource, key: str) -> ExportOptions:
    formats = ["acf"] + ([NATIVE_FORMATS[source.framework]] if source.framework in NATIVE_FORMATS else [])
    why_not_native = getattr(lookup(source.framework), "NO_NATIVE_FORMAT", None)
    if why_not_native:
        st.info(why_not_native)
    left, right = st.columns(2)
    with left:
        fmt = st.selectbox(
            "Format",
            formats,
            key=f"{key}-format",
            help="acf: the agent-checkpoint spec; otherwise the framework's own checkpoint",
        )
        agent = st.text_input(
            "Next agent",
            value=source.checkpoint.get("agent_id") or "",
            key=f"{key}-agent",
            disabled=fmt != "acf",
        )
        strategy = st.selectbox(
            "Retry strategy",
            [DEFAULT, *RETRY_STRATEGIES],
            key=f"{key}-strategy",
            disabled=fmt != "acf",
            help="default follows the failure class",
        )
    with right:
        hint = st.selectbox(
            "Executor hint", [DEFAULT, "same", "any", "capability:"], key=f"{key}-hint", disabled=fmt != "acf"
        )
        if hint == "capability:":
            hint += st.text_input("Capability", key=f"{key}-capability").strip()
        max_bytes = int(
            st.number_input(
                "Context budget (bytes)",
                min_value=4096,
                value=DEFAULT_MAX_BYTES,
                step=4096,
                key=f"{key}-max-bytes",
            )
        )
        redact_on = st.toggle("Redact secrets", value=True, key=f"{key}-redact")
    if not redact_on:
        st.warning("Redaction is off: secrets in this checkpoint will be exported as they are.")
    return ExportOptions(
        format=fmt,
        agent_id=(agent.strip() or None) if fmt == "acf" else None,
        retry_strategy=None if strategy == DEFAULT else strategy,
        executor_hint=None if hint == DEFAULT else hint,
        redact=redact_on,
        max_bytes=max_bytes,
    )


def _cached_export(source: ResumeSource, options: ExportOptions) -> ExportResult:
    """One preview per choice, so the file downloaded or written is the one shown."""
    cache: dict[Any, ExportResult] = st.session_state.setdefault("_baton_resume_exports", {})
    key = (source.checkpoint["id"], tuple(sorted(options.as_dict().items())))
    if key not in cache:
        cache[key] = build_export(source, options)
    return cache[key]


def _log_download(source: ResumeSource, result: ExportResult, options: ExportOptions) -> None:
    data.record_export(source, result, options, "download")


def render_resume_panel(run_id: str, checkpoint_id: str) -> None:
    """The resume panel for one checkpoint of a run (``run_id`` scopes the export list)."""
    key = f"resume-{checkpoint_id}"
    st.subheader("Resume checkpoint")
    try:
        source = data.resume_source(checkpoint_id)
        options = _choices(source, key)
        result = _cached_export(source, options)
    except UserError as exc:
        st.error("Cannot export this checkpoint:")
        st.code(str(exc), language=None)  # the reason may quote the file: never as markdown
        return
    report = result.redaction
    if report.enabled:
        st.text(
            f"Redacted {report.count} value(s)"
            + (": " + ", ".join(r.path for r in report.redactions[:20]) if report.count else "")
        )
    for note in result.notes:
        st.text(f"Note: {note}")
    st.json(result.document, expanded=1)
    left, right = st.columns(2)
    with left:
        st.download_button(
            "Download",
            data=result.to_bytes(),
            file_name=result.file_name,
            mime="application/json",
            key=f"{key}-download",
            on_click=_log_download,
            args=(source, result, options),
        )
    with right:
        if st.button("Write to outbox", key=f"{key}-write"):
            try:
                path = write_export(result, default_outbox() / result.format)
            except (UserError, OSError) as exc:
                st.error("Could not write the export:")
                st.code(str(exc), language=None)
            else:
                data.record_export(source, result, options, str(path))
                st.session_state["_baton_resume_exports"].clear()  # the next export gets fresh ids
                st.success("Written.")
                st.code(str(path), language=None)
    st.caption(
        "Resume command" if result.format != "acf" else "Check the file with agent-checkpoint-framework"
    )
    st.code(result.command(), language="bash")
    exports = data.exports(run_id)
    st.caption(f"Past exports of this run ({len(exports)})")
    if exports:
        st.dataframe(
            [
                {
                    k: e[k]
                    for k in ("created_at", "checkpoint_id", "format", "redacted", "trimmed", "destination")
                }
                for e in exports
            ],
            width="stretch",
            hide_index=True,
            key=f"{key}-exports",
        )
    else:
        st.text("No exports yet.")

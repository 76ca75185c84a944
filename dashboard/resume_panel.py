"""Run page panel: say what is exported, choose the format (ACF, the framework's native form,
the Markdown handoff brief) and who continues, preview exactly what will be written, copy,
download or write it, and see past exports.

Only widgets; the database is reached through ``dashboard.data``, the export itself is built
and written by ``core.resume`` (pure functions and files, no database), and what must
survive a live refresh is kept by ``dashboard.resume_state``. Text from an input file is
shown with ``st.json``/``st.code``/``st.text``/``st.dataframe`` or through ``md_escape``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import UserError
from core.failures.analysis import usable_for_resume
from core.frameworks.registry import lookup
from core.resume.export import NATIVE_FORMATS, ExportResult, build_export, write_export
from core.resume.options import RETRY_STRATEGIES, ExportOptions
from core.resume.outbox import default_outbox
from core.resume.source import ResumeSource
from core.resume.trim import DEFAULT_MAX_BYTES
from dashboard import data, resume_state, ui

DEFAULT = "default"
OTHER = "another agent…"
FORMATS = ("acf", "native", "prompt")
FORMAT_HELP = {
    "acf": "ACF: the agent-checkpoint spec's resume document (JSON), for any framework",
    "native": "Native: the framework's own checkpoint, resumed by the framework itself",
    "prompt": "Handoff brief: Markdown any coding agent (Claude Code, Codex, Gemini) starts from",
}


def _label(cp: dict[str, Any]) -> str:
    step = f", step {cp['step']}" if cp.get("step") is not None else ""
    return f"{ui.tail(cp.get('native_id'), 48)} ({cp.get('status')}{step})"


def _statement(source: ResumeSource, checkpoints: dict[str, dict[str, Any]]) -> None:
    """What is exported, the last good checkpoint one click away, and a warning when this
    one cannot be resumed from."""
    cp, run = source.checkpoint, source.run
    info = run.get("failure_info") or {}
    good = info.get("last_good_checkpoint")
    line = f"Exporting checkpoint {_label(cp)} of a {run.get('status')} run"
    if run.get("status") == "failed" or cp.get("status") == "failed":
        if good == cp["id"]:
            line += "; this is the last good checkpoint before the failure"
        elif good in checkpoints:
            line += f"; the last good one is {_label(checkpoints[good])}"
        else:
            line += "; no checkpoint before the failure is usable for a resume"
    st.info(ui.md_escape(line) + ".", icon=":material/output:")
    if (
        good in checkpoints
        and good != cp["id"]
        and st.button("Switch to the last good checkpoint", key=f"resume-{cp['id']}-go-good")
    ):
        st.query_params["checkpoint"] = good
        st.rerun()
    if not usable_for_resume(source.framework, cp):
        why = (
            "it is the failed checkpoint itself"
            if cp.get("status") == "failed"
            else f"its saved state lacks what a {source.framework} resume needs"
        )
        st.warning(
            ui.md_escape(
                f"This checkpoint is not usable for a resume: {why}. The export still says what it holds."
            )
            + (" Switch to the last good one above." if good in checkpoints and good != cp["id"] else ""),
            icon=":material/warning:",
        )


def _agent(source: ResumeSource, key: str, disabled: bool) -> str | None:
    own = source.checkpoint.get("agent_id")
    agents = list(dict.fromkeys([a for a in [own, *(source.run.get("agents") or [])] if a]))
    picked = st.selectbox(
        "Next agent",
        [*agents, OTHER],
        key=f"{key}-agent",
        disabled=disabled,
        help="who continues: one of the run's agents, or type another",
    )
    if picked == OTHER:
        typed = st.text_input("Agent name", key=f"{key}-agent-name", disabled=disabled).strip()
        return typed or None
    return None if picked == own else picked


def _choices(source: ResumeSource, key: str) -> ExportOptions:
    native = NATIVE_FORMATS.get(source.framework)
    fmt = st.radio(
        "Format",
        FORMATS,
        format_func=lambda f: f"native ({native})" if f == "native" and native else f,
        key=f"{key}-format",
        horizontal=True,
        help="; ".join(FORMAT_HELP.values()),
    )
    why_not_native = (
        getattr(lookup(source.framework), "NO_NATIVE_FORMAT", None) or f"{source.framework} has none"
    )
    st.caption(FORMAT_HELP[fmt] + ("" if fmt != "native" or native else f" ({why_not_native})"))
    left, right = st.columns(2)
    with left:
        agent = _agent(source, key, disabled=fmt == "native")
        strategy = st.selectbox(
            "Retry strategy",
            [DEFAULT, *RETRY_STRATEGIES],
            key=f"{key}-strategy",
            disabled=fmt == "native",
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
                "Byte budget", min_value=4096, value=DEFAULT_MAX_BYTES, step=4096, key=f"{key}-max-bytes"
            )
        )
        redact_on = st.toggle("Redact secrets", value=True, key=f"{key}-redact")
    if not redact_on:
        st.warning("Redaction is off: secrets in this checkpoint will be exported as they are.")
    return ExportOptions(
        format=fmt,
        agent_id=agent if fmt != "native" else None,
        retry_strategy=None if strategy == DEFAULT or fmt == "native" else strategy,
        executor_hint=None if hint == DEFAULT or fmt != "acf" else hint,
        redact=redact_on,
        max_bytes=max_bytes,
    )


def _write(run_id: str, source: ResumeSource, result: ExportResult, options: ExportOptions) -> None:
    """The button's callback: it runs before the rerun, so the confirmation it leaves is drawn
    in that run and every later one."""
    try:
        path = write_export(result, default_outbox() / result.format)
    except (UserError, OSError) as exc:
        resume_state.note_failed(run_id, source.checkpoint["id"], str(exc))
        return
    data.record_export(source, result, options, str(path))
    resume_state.note_written(run_id, source.checkpoint["id"], result)


def _confirmation(run_id: str, checkpoint_id: str, result: ExportResult) -> None:
    done = resume_state.written(run_id, checkpoint_id)
    if done is None:
        return
    if done["error"]:
        st.error("Could not write the export:")
        st.code(done["error"], language=None)
        return
    same = done["document_id"] == result.document_id
    st.success(
        f"Written at {ui.when(done['written_at'])} UTC: {done['format']} export "
        f"{ui.md_escape(done['document_id'])}, {done['bytes']:,} bytes"
        + (" (the document shown below)" if same else " (the preview below is a new, unwritten export)"),
        icon=":material/check_circle:",
    )
    st.code(done["path"], language=None)


def _redactions(result: ExportResult) -> None:
    report = result.redaction
    if not report.enabled:
        st.caption("Redaction is off.")
        return
    if not report.count:
        st.caption("Redacted nothing: no value looked like a secret.")
        return
    st.caption(f"Redacted {report.count} value(s), shown as [REDACTED:kind] in the document:")
    if report.count:
        st.dataframe(
            [{"path": r.path, "kind": r.kind} for r in report.redactions],
            hide_index=True,
            width="stretch",
            key=f"resume-redactions-{result.document_id}",
        )


def _document(result: ExportResult) -> None:
    text = result.to_bytes().decode()
    if result.text is not None:
        st.code(text, language="markdown")  # the exact bytes, with a copy button
        return
    st.json(result.document, expanded=True)
    ui.copy_button(text, "Copy the document as text")


def _exports(run_id: str, key: str) -> None:
    exports = data.exports(run_id)
    st.caption(f"Past exports of this run ({len(exports)})")
    if not exports:
        st.text("No exports yet.")
        return
    st.dataframe(
        [
            {
                "when (UTC)": ui.when(e["created_at"]),
                "format": e["format"],
                "document id": e["document_id"],
                "checkpoint": e["checkpoint_id"],
                "redacted": e["redacted"],
                "trimmed": e["trimmed"],
                "destination": e["destination"],
            }
            for e in exports
        ],
        width="stretch",
        hide_index=True,
        key=f"{key}-exports",
    )


def render_resume_panel(run_id: str, checkpoint_id: str) -> None:
    """The resume panel for one checkpoint of a run (``run_id`` scopes the export list)."""
    key = f"resume-{checkpoint_id}"
    st.subheader("Resume checkpoint")
    try:
        source = data.resume_source(checkpoint_id)
        _statement(source, {cp["id"]: cp for cp in data.checkpoints(run_id)})
        options = _choices(source, key)
        if options.format == "prompt":
            source = data.resume_source(checkpoint_id, with_events=True)
        result = resume_state.cached_export(checkpoint_id, options, lambda: build_export(source, options))
    except UserError as exc:
        st.error("Cannot export this checkpoint:")
        st.code(str(exc), language=None)  # the reason may quote the file: never as markdown
        _exports(run_id, key)
        return
    _confirmation(run_id, checkpoint_id, result)
    for note in result.notes:
        st.text(f"Note: {note}")
    _redactions(result)
    _document(result)
    left, middle, right = st.columns(3)
    with left:
        st.download_button(
            "Download",
            data=result.to_bytes(),
            file_name=result.file_name,
            mime=result.mime,
            key=f"{key}-download",
            on_click=data.record_export,
            args=(source, result, options, "download"),
        )
    with middle:
        st.button(
            "Write to outbox", key=f"{key}-write", on_click=_write, args=(run_id, source, result, options)
        )
    with right:
        st.button(
            "New export (new ids)",
            key=f"{key}-new",
            on_click=resume_state.forget_export,
            args=(checkpoint_id, options),
        )
    captions = {"acf": "Check the file with agent-checkpoint-framework", "prompt": "Start an agent on it"}
    st.caption(captions.get(result.format, "Resume command") + " (once written to the outbox)")
    command = result.command(default_outbox() / result.format)
    st.text(command)
    ui.copy_button(command, "Copy the command")
    _exports(run_id, key)

"""Ingest: what is watched, what failed or was ignored and why, and adding a folder."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import background, data, ui

st.title("Ingest")

try:
    state = background.watcher_state()
except Exception as exc:
    ui.show_error("the watcher state", exc)
    state = None
if state is not None:
    cols = st.columns(4)
    cols[0].metric("Watcher", "running" if state["running"] else "stopped")
    cols[1].metric("Mode", state["mode"])
    cols[2].metric("Catch-up scan", "done" if state["caught_up"] else "in progress…")
    loaded = state.get("files_loaded")
    cols[3].metric("Loaded since start", "—" if loaded is None else f"{loaded:,}")
    st.subheader("Folders watched")
    if state["folders"]:
        st.dataframe(
            pd.DataFrame(state["folders"], columns=["path", "mode"]), hide_index=True, width="stretch"
        )
    else:
        st.caption("No folder is watched. Set BATON_WATCH or add one below.")
    if state.get("last_error"):
        st.warning(f"Last error: {ui.md_escape(ui.short(state['last_error'], 300))}")
    for warning in state.get("warnings") or []:
        st.caption(ui.md_escape(ui.short(warning, 300)))

try:
    otlp = background.receiver_state()
except Exception as exc:
    ui.show_error("the OTLP receiver", exc)
    otlp = None
st.subheader("OTLP receiver")
if otlp is None:
    st.caption(
        "Off. Set BATON_OTLP_PORT=4318 to receive OpenTelemetry traces here "
        "(agents export with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318), or run `baton otlp`."
    )
elif otlp["error"]:
    st.warning(ui.md_escape(ui.short(otlp["error"], 300)))
else:
    st.caption(f"Endpoint {ui.md_escape(otlp['endpoint'])} · spool {ui.md_escape(otlp['spool'])}")
    cols = st.columns(4)
    cols[0].metric("Requests", f"{otlp['requests']:,}")
    cols[1].metric("Spans written", f"{otlp['spans']:,}")
    cols[2].metric("Requests refused", f"{otlp['rejected_requests']:,}")
    cols[3].metric("Spans rejected", f"{otlp['rejected_spans']:,}")
    if otlp["last_error"]:
        st.caption(f"Last refused: {ui.md_escape(ui.short(otlp['last_error'], 300))}")

st.subheader("Add a folder")
ADDED = "_ingest_added"  # the last confirmation: kept across live refreshes until dismissed
with st.form("add_folder", clear_on_submit=False, border=True):
    path = st.text_input(
        "Folder (or file) to load now and watch from then on", placeholder="/path/to/agent/checkpoints"
    )
    submitted = st.form_submit_button("Load and watch it")
if submitted:
    try:
        with st.spinner("Loading…"):
            summary = data.add_folder(path)
        background.start()  # the watcher restarts with the new folder
    except Exception as exc:
        st.session_state.pop(ADDED, None)
        st.error(ui.md_escape(ui.short(exc, 300)))
    else:
        st.session_state[ADDED] = summary
confirmed = st.session_state.get(ADDED)
if confirmed:
    st.success(
        f"{ui.md_escape(confirmed['path'])}: {confirmed['files_loaded']:,} loaded, "
        f"{confirmed['files_unchanged']:,} unchanged, {confirmed['files_ignored']:,} ignored, "
        f"{confirmed['files_failed']:,} failed ({confirmed['files_seen']:,} files seen in {confirmed['seconds']} s). "
        + ("Watched from now on, also after a restart." if confirmed.get("added") else "Already watched.")
    )
    if st.button("Dismiss", key="ingest_dismiss"):
        st.session_state.pop(ADDED, None)
        st.rerun()
added = data.watched_folders()
if added:
    st.caption("Folders you added (kept in the database; removing one keeps what it loaded):")
    for folder in added:
        cols = st.columns([8, 1], vertical_alignment="center")
        cols[0].code(folder, language=None)
        if cols[1].button("Remove", key=f"remove_{folder}"):
            data.remove_folder(folder)
            background.start()
            st.rerun()

failed = data.files("failed")
ignored = data.files("ignored")
deleted = data.files("deleted")
st.subheader(f"Failed files ({len(failed):,})")
if failed:
    st.dataframe(
        pd.DataFrame(
            {
                "file": [f["path"] for f in failed],
                "line": [f["error_line"] for f in failed],
                "why": [ui.short(f["error"], 300) for f in failed],
                f"seen ({ui.zone_name()})": [ui.when(f["seen_at"]) for f in failed],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"why": st.column_config.TextColumn(width="large")},
    )
else:
    st.caption("No file failed to load.")
st.subheader(f"Ignored files ({len(ignored):,})")
if ignored:
    st.dataframe(
        pd.DataFrame(
            {"file": [f["path"] for f in ignored], "why": [ui.short(f["error"], 200) for f in ignored]}
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("No file was ignored.")
bad = data.bad_lines()
if bad:
    st.subheader(f"Bad lines skipped ({len(bad):,})")
    st.caption("Lines of loaded JSON Lines files that are not JSON; the lines around them loaded.")
    st.dataframe(
        pd.DataFrame(
            {
                "file": [b["path"] for b in bad],
                "line": [b["line"] for b in bad],
                "why": [ui.short(b["error"], 300) for b in bad],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"why": st.column_config.TextColumn(width="large")},
    )
warned = data.warnings()
if warned:
    st.subheader(f"Warnings ({len(warned):,})")
    st.caption("Files that loaded with something not stored as it was written: each says what and where.")
    st.dataframe(
        pd.DataFrame(
            {
                "file": [w["path"] for w in warned],
                "line": [w["line"] for w in warned],
                "warning": [ui.short(w["error"].removeprefix("warning: "), 300) for w in warned],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"warning": st.column_config.TextColumn(width="large")},
    )
if deleted:
    st.subheader(f"Deleted files ({len(deleted):,})")
    st.caption("Gone from disk; the runs they described are kept.")
    st.dataframe(pd.DataFrame({"file": [f["path"] for f in deleted]}), hide_index=True, width="stretch")
if state is not None and not failed and not ignored and not data.file_counts().get("loaded"):
    ui.empty_database_help()

"""Overview: runs by status and framework, cost to date, recent failures, ingest health."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import background, data, ui

st.title("Overview")

try:
    summary = data.overview()
except Exception as exc:
    ui.show_error("the overview", exc)
    st.stop()

total = sum(summary["statuses"].values())
files = summary["files"]
try:
    state = background.watcher_state()
except Exception as exc:
    state = None
    state_error = exc
if state is not None and not state["caught_up"]:
    st.info(
        "Still reading the watched folders: this page fills in as they load.", icon=":material/hourglass_top:"
    )
if total == 0:
    ui.empty_database_help()

top = st.columns(4)
top[0].metric("Runs", f"{total:,}")
top[1].metric("Failed runs", f"{summary['statuses'].get('failed', 0):,}")
top[2].metric("Files loaded", f"{files.get('loaded', 0):,}")
top[3].metric("Files failed", f"{files.get('failed', 0):,}", help="See the Ingest page for the reasons.")

if total:
    left, right = st.columns(2)
    with left:
        st.subheader("Runs by status")
        frame = pd.DataFrame(
            {"status": list(summary["statuses"]), "runs": list(summary["statuses"].values())}
        )
        st.bar_chart(frame, x="status", y="runs", horizontal=True, height=220)
    with right:
        st.subheader("Runs by framework")
        frame = pd.DataFrame(
            {"framework": list(summary["frameworks"]), "runs": list(summary["frameworks"].values())}
        )
        st.bar_chart(frame, x="framework", y="runs", horizontal=True, height=220)

st.subheader("Cost")
if note := data.pricing_note():
    st.caption(note)
try:
    costs = data.costs("day")
except data.NotAvailable as exc:
    st.info(ui.md_escape(ui.short(exc, 300)))  # may quote file data
    costs = None
if costs is not None:
    by_day, totals = costs["rows"], costs["totals"]
    cols = st.columns(3)
    cols[0].metric(
        "Cost to date (priced)", ui.money(totals["cost_usd"]) if totals["cost_usd"] is not None else "—"
    )
    cols[1].metric(
        "Unpriced calls",
        f"{totals['unpriced_calls']:,}",
        help="Tokens known, price not: never counted as $0.",
    )
    cols[2].metric("Unpriced tokens", f"{totals['unpriced_tokens']:,}")
    days = sorted(
        (row for row in by_day if row["key"] and row["cost_usd"] is not None), key=lambda r: r["key"]
    )
    if len(days) > 1:
        chart = pd.DataFrame({"day": [r["key"] for r in days], "cost (USD)": [r["cost_usd"] for r in days]})
        st.bar_chart(chart, x="day", y="cost (USD)", height=220)
    elif days:
        st.caption(f"All priced calls so far were on {days[0]['key']}.")
    elif not by_day:
        st.caption("No model calls with tokens or cost recorded yet.")
    else:
        st.caption("No priced calls yet: the calls recorded have tokens but no known price.")

st.subheader("Recent failures")
failures = summary["recent_failures"]
if not failures:
    st.caption("No failed runs." if total else "Nothing loaded yet.")
else:
    frame = pd.DataFrame(
        {
            "ended": [ui.when(r["ended_at"] or r["started_at"]) for r in failures],
            "framework": [r["framework"] for r in failures],
            "run": [ui.run_label(r) for r in failures],
            "id": [ui.run_short_id(r) for r in failures],
            "failure": [ui.failure_cell(r) for r in failures],
        }
    )
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="overview_failed",
    )
    row = ui.selected_row(event)
    if row is not None:
        ui.open_run(failures[row]["id"])
    st.caption(
        f"{summary['failed_total']:,} failed runs in all · select a row to open it · see **Failures** for groups"
    )

st.subheader("Ingest health")
if state is None:
    ui.show_error("the watcher state", state_error)
else:
    cols = st.columns(4)
    cols[0].metric("Watcher", "running" if state["running"] else "stopped")
    cols[1].metric("Mode", state["mode"])
    cols[2].metric("Ignored files", f"{files.get('ignored', 0):,}")
    cols[3].metric(
        "Deleted files", f"{files.get('deleted', 0):,}", help="Gone from disk; their records are kept."
    )
    st.dataframe(
        pd.DataFrame(state["folders"] or [], columns=["path", "mode"]), hide_index=True, width="stretch"
    )
    if state.get("last_error"):
        st.warning(f"Last watcher error: {ui.md_escape(ui.short(state['last_error'], 300))}")

"""Overview: runs by status and framework, cost to date, recent failures, ingest health."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import background, data, ui

st.title("Overview")
st.caption(
    "Baton shows the runs your AI agents left on disk: their checkpoints, costs, failures and where to resume. "
    "It watches the folders listed under **Ingest health** below; add more on the **Ingest** page or with "
    "`BATON_WATCH` / `baton watch PATH`."
)

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

failed_runs = summary["statuses"].get("failed", 0)
top = st.columns(4)
with top[0]:
    st.metric("Runs", f"{total:,}", border=True)
    st.page_link(ui.PAGES["runs"], label="All runs", icon=":material/table_rows:")
with top[1]:
    st.metric(
        "Failed runs",
        f"{failed_runs:,}",
        delta=f"{failed_runs / total:.0%} of runs" if total else None,
        delta_color="red",
        delta_arrow="off",
        border=True,
    )
    st.page_link(
        ui.PAGES["runs"], label="Failed runs", icon=":material/error:", query_params={"status": "failed"}
    )
with top[2]:
    st.metric("Files loaded", f"{files.get('loaded', 0):,}", border=True)
    st.page_link(ui.PAGES["ingest"], label="What is watched", icon=":material/folder_open:")
with top[3]:
    st.metric(
        "Files failed",
        f"{files.get('failed', 0):,}",
        help="See the Ingest page for the reasons.",
        border=True,
    )
    st.page_link(ui.PAGES["ingest"], label="Why they failed", icon=":material/report:")

if total:
    left, right = st.columns(2)
    with left:
        st.subheader("Runs by status")
        frame = pd.DataFrame(
            {"status": list(summary["statuses"]), "runs": list(summary["statuses"].values())}
        )
        statuses = list(summary["statuses"])
        chart = (
            alt.Chart(frame)
            .mark_bar(cursor="pointer")
            .encode(
                x=alt.X("runs:Q", title="runs"),
                y=alt.Y("status:N", sort="-x", title=None),
                color=alt.Color(
                    "status:N",
                    scale=alt.Scale(
                        domain=statuses, range=[ui.STATUS_TEXT_COLORS.get(s, "#868e96") for s in statuses]
                    ),
                    legend=None,
                ),
                tooltip=["status", alt.Tooltip("runs:Q", format=",")],
            )
            .add_params(alt.selection_point(name="bar", fields=["status"]))
            .properties(height=220)
        )
        picked = st.altair_chart(chart, on_select="rerun", key="overview_status_chart", width="stretch")
        clicked = (picked.get("selection", {}).get("bar") or [{}])[0].get("status") if picked else None
        if clicked:
            st.switch_page(ui.PAGES["runs"], query_params={"status": clicked})
        st.caption("Click a bar to list those runs.")
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
            f"ended ({ui.zone_name()})": [ui.when(r["ended_at"] or r["started_at"]) for r in failures],
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
    st.caption(f"{summary['failed_total']:,} failed runs in all · select a row to open it")
    st.page_link(ui.PAGES["failures"], label="Failures by class and reason", icon=":material/error:")

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

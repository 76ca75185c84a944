"""Failures: a roll-up by failure class (each bar opens the runs of its class), then groups by
class and normalized reason, each titled by a real example reason and listing its latest runs.
The class filter lives in the URL (``?class=...``)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, ui

MEMBERS = 20  # runs listed per group (the group's count says how many there are)

st.title("Failures")
chosen = tuple(st.session_state.get("class") or ())
result = ui.load_or_stop("the failures", lambda: data.failures(chosen, MEMBERS))
if note := data.pricing_note():
    st.info(note, icon=":material/hourglass_top:")
by_class, groups = result["classes"], result["groups"]

if not by_class:
    total = sum(data.overview()["statuses"].values())
    if total:
        st.success(f"None of the {total:,} runs failed.")
    else:
        ui.empty_database_help()
    st.stop()

descriptions = data.failure_classes()
failed_total = sum(by_class.values())
cols = st.columns(3)
cols[0].metric("Failed runs", f"{failed_total:,}")
cols[1].metric("Failure classes", f"{len(by_class):,}")
cols[2].metric("Distinct reasons", f"{len(groups):,}" if not chosen else f"{len(groups):,} shown")

st.subheader("By class")
frame = pd.DataFrame(
    {
        "class": list(by_class),
        "runs": list(by_class.values()),
        "share": [f"{n / failed_total:.0%}" for n in by_class.values()],
        "meaning": [descriptions.get(k, "") for k in by_class],
    }
)
chart = (
    alt.Chart(frame)
    .mark_bar(color="#c92a2a", cursor="pointer")
    .encode(
        x=alt.X("runs:Q", title="failed runs"),
        y=alt.Y("class:N", sort="-x", title=None),
        tooltip=["class", alt.Tooltip("runs:Q", format=","), "share", "meaning"],
    )
    .add_params(alt.selection_point(name="bar", fields=["class"]))
    .properties(height=max(120, 30 * len(by_class)))
)
picked = st.altair_chart(chart, on_select="rerun", key="failures_chart", width="stretch")
clicked = (picked.get("selection", {}).get("bar") or [{}])[0].get("class") if picked else None
if clicked:
    st.switch_page(ui.PAGES["runs"], query_params={"failure_class": clicked})
st.caption("Click a bar to list the runs of that class on the Runs page.")

st.multiselect(
    "Show the reasons of these classes",
    list(by_class),
    key="class",
    bind="query-params",
    format_func=lambda k: f"{k} ({by_class.get(k, 0):,})",
)
st.subheader("By reason")
for index, group in enumerate(groups):
    klass, members = group["failure_class"], group["runs"]
    example = group["example_reason"] or "(no reason recorded)"
    title = f"**{ui.md_escape(klass)}** · {ui.md_escape(ui.short(example, 110))} · {group['count']:,} run(s)"
    with st.expander(title, expanded=index < 3):
        if descriptions.get(klass):
            st.caption(ui.md_escape(descriptions[klass]))
        if group["normalized_reason"] and group["normalized_reason"] != example:
            st.caption("Grouped as: " + ui.md_escape(ui.short(group["normalized_reason"], 300)))
        table = pd.DataFrame(
            {
                "failed at": [ui.when(m["failed_at"]) for m in members],
                "run": [ui.run_label(m) for m in members],
                "framework": [m["framework"] for m in members],
                "agent": [m["agent"] or "" for m in members],
                "step / tool": [ui.short(m["tool"] or m["step"] or "", 40) for m in members],
                "reason": [ui.short(m["reason"], 160) for m in members],
                "last good checkpoint": [
                    ui.short(m["last_good_checkpoint_native"] or "none usable", 40) for m in members
                ],
            }
        )
        event = st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key=f"failures_group_{index}",
            column_config={
                "run": st.column_config.TextColumn(width="medium"),
                "reason": st.column_config.TextColumn(width="large"),
            },
        )
        if group["count"] > len(members):
            st.caption(f"The latest {len(members):,} of {group['count']:,} runs.")
        row = ui.selected_row(event)
        if row is not None:
            member = members[row]
            ui.open_run(member["run_id"], member["last_good_checkpoint"])
st.caption("Select a run to open it at its last good checkpoint.")

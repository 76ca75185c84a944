"""Failures: groups by failure class and normalized reason, each listing its runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui

st.title("Failures")
infos = ui.load_or_stop("the failures", lambda: data.failures())

if not infos:
    total = sum(data.overview()["statuses"].values())
    if total:
        st.success(f"None of the {total:,} runs failed.")
    else:
        ui.empty_database_help()
    st.stop()

classes = data.failure_classes()
groups: dict[tuple[str, str], list[dict]] = {}
for info in infos:
    groups.setdefault(
        (info["failure_class"], info["normalized_reason"] or "(no reason recorded)"), []
    ).append(info)
ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))

by_class: dict[str, int] = {}
for info in infos:
    by_class[info["failure_class"]] = by_class.get(info["failure_class"], 0) + 1
cols = st.columns(3)
cols[0].metric("Failed runs", f"{len(infos):,}")
cols[1].metric("Failure classes", len(by_class))
cols[2].metric("Distinct reasons", len(groups))
st.bar_chart(
    pd.DataFrame({"class": list(by_class), "runs": list(by_class.values())}),
    x="class",
    y="runs",
    horizontal=True,
    height=max(120, 32 * len(by_class)),
)

chosen = st.multiselect("Failure class", sorted(by_class), key="failures_class")
for index, ((klass, reason), members) in enumerate(ordered):
    if chosen and klass not in chosen:
        continue
    title = f"**{ui.md_escape(klass)}** · {ui.md_escape(ui.short(reason, 110))} · {len(members)} run(s)"
    with st.expander(title, expanded=index < 3):
        if classes.get(klass):
            st.caption(ui.md_escape(classes[klass]))
        frame = pd.DataFrame(
            {
                "failed at": [ui.when(m["failed_at"]) for m in members],
                "framework": [m["framework"] for m in members],
                "run": [ui.tail(m["native_id"], 40) for m in members],
                "agent": [m["agent"] or "" for m in members],
                "step / tool": [ui.short(m["tool"] or m["step"] or "", 40) for m in members],
                "reason": [ui.short(m["reason"], 120) for m in members],
                "last good checkpoint": [
                    ui.short(m["last_good_checkpoint_native"] or "none usable", 40) for m in members
                ],
            }
        )
        event = st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key=f"failures_group_{index}",
        )
        picked = ui.selected_row(event)
        if picked is not None:
            member = members[picked]
            ui.open_run(member["run_id"], member["last_good_checkpoint"])
st.caption("Select a run to open it at its last good checkpoint.")

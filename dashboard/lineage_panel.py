"""The Run page's Lineage tab: the checkpoint graph (ECharts: zoom and pan with the mouse,
click a node to select its checkpoint, click a collapsed stretch to open it, one at a time),
then the selected checkpoint's fields and original document."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, lineage_chart, ui

EXPANDED = "_lineage_expanded"


def _select(checkpoint_id: str) -> None:
    """Select a checkpoint: the URL names it, and the page's picker follows on the rerun."""
    st.query_params["checkpoint"] = checkpoint_id


def render_lineage(run_id: str, selected: str, by_id: dict[str, dict], label: Any) -> None:
    expanded: set[str] = st.session_state.setdefault(EXPANDED, {}).setdefault(run_id, set())
    cols = st.columns([3, 2], vertical_alignment="center")
    expand = cols[0].toggle("Show every checkpoint (no collapsed stretches)", key="lineage_expand")
    if expanded and cols[1].button("Collapse the stretches I opened", key="lineage_recollapse"):
        expanded.clear()
        st.rerun()
    graph = data.lineage(run_id, selected, expand, tuple(expanded))
    bits = [
        f"{graph['checkpoints']:,} checkpoints",
        f"{graph['roots']:,} chain(s)",
        f"{graph['forks']:,} fork(s)",
        f"{graph['restarts']:,} restart(s)",
        f"{len(graph['handoffs']):,} handoff(s)",
    ]
    if graph["collapsed"]:
        bits.append(f"{graph['collapsed']:,} long stretch(es) collapsed (click one to open it)")
    if graph["missing_parents"]:
        bits.append(f"{graph['missing_parents']:,} with a parent that is not loaded")
    st.caption(
        " · ".join(bits) + " · click a node to select it; scroll to zoom, drag to pan · blue outline: "
        "selected · red: failed · amber: waiting/paused · purple edge: handoff · dashed orange: restart"
    )
    lanes = max((item["y"] for item in graph["chart"]["series"][0]["data"]), default=0)
    state = st.echarts_chart(
        graph["chart"],
        height=int(min(max(180, lanes + 140), 560)),
        on_select="rerun",
        key=f"lineage_{run_id}_{selected}_{expand}_{len(expanded)}",  # a new view: no stale click
    )
    index = lineage_chart.picked_node_index(state, graph["nodes"])
    if index is not None:
        ids = graph["node_checkpoints"][index]
        if graph["node_collapsed"][index]:
            expanded.update(ids)  # open this stretch; the others stay collapsed
            st.rerun()
        elif ids[0] != selected:
            _select(ids[0])
            st.rerun()
    cp = data.checkpoint(selected)
    if cp is None:
        st.warning("This checkpoint is no longer in the database.")
        return
    st.subheader("Checkpoint")
    fields = {
        "Checkpoint": cp["native_id"],
        "Baton id": cp["id"],
        "Status": cp["status"],
        "Agent": cp["agent_id"] or "—",
        "Step": "—" if cp["step"] is None else str(cp["step"]),
        "Created": ui.when(cp["created_at"], zone=True),
        "Parent": by_id[cp["parent_id"]]["native_id"]
        if cp["parent_id"] in by_id
        else (cp["parent_id"] or "— (root)"),
        "Source file": cp.get("source_path") or "—",
    }
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(
            pd.DataFrame({"field": list(fields), "value": [ui.short(v, 200) for v in fields.values()]}),
            hide_index=True,
            width="stretch",
        )
        if cp["summary"]:
            st.caption("Summary")
            ui.long_text(cp["summary"], "the summary", language=None)
        if cp["failure_reason"]:
            st.caption("Failure reason")
            ui.long_text(cp["failure_reason"], "the failure reason", language=None)
    with right:
        st.caption(f"Completed steps ({len(cp['completed_steps'])})")
        ui.long_text(cp["completed_steps"], "the completed steps", limit=600, language="json")
        st.caption(f"Remaining steps ({len(cp['remaining_steps'])})")
        ui.long_text(cp["remaining_steps"], "the remaining steps", limit=600, language="json")
    with st.expander("Original document (as the framework wrote it)"):
        size = len(ui.as_text(cp["document"]))
        if size > 300_000:
            st.caption(f"{size:,} characters: shown as text")
            ui.long_text(cp["document"], "the document", limit=20_000, language="json")
        else:
            st.json(cp["document"], expanded=2)

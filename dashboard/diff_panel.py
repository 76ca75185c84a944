"""The Run page's Diff tab: what changed between two checkpoints' documents, field by field,
each changed value shown whole, before and after side by side; bookkeeping fields (ids,
timestamps, sequence numbers) hidden unless asked for."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, ui

BOOKKEEPING = re.compile(
    r"(^|[._\[])(id|ids|uuid|\w*_id|\w*_ids|checkpoint_id|created_at|updated_at|emitted_at|\w*_at|"
    r"timestamp|ts|time|seq|sequence|version|ac_version|offset)(\]|$)",
    re.IGNORECASE,
)
MARKS = {"added": "+ added", "removed": "− removed", "changed": "~ changed", "moved": "→ moved"}
COLORS = {"+ added": "#2b8a3e", "− removed": "#c92a2a", "~ changed": "#e67700", "→ moved": "#1c7ed6"}
SIDE_BY_SIDE = 8  # changes shown whole below the table when none is selected


def is_bookkeeping(path: str) -> bool:
    """Whether a changed path is an id, a timestamp or a counter rather than content."""
    last = re.split(r"\.(?![^\[]*\])", path)[-1]
    return bool(BOOKKEEPING.search(re.sub(r"\[\d+\]$", "", last)))


def _side_by_side(change: dict[str, Any]) -> None:
    path = change["path"] if change["kind"] != "moved" else f"{change['from']} → {change['path']}"
    st.caption(f"{ui.md_escape(MARKS[change['kind']])} · {ui.md_escape(path)}")
    before, after = st.columns(2)
    with before:
        if change["kind"] == "added":
            st.caption("(not there before)")
        else:
            st.text(ui.as_text(change["old"]))
    with after:
        if change["kind"] == "removed":
            st.caption("(gone)")
        else:
            st.text(ui.as_text(change["new"]))


def render_diff(checkpoints: list[dict], selected: str, by_id: dict[str, dict], label: Any) -> None:
    if len(checkpoints) < 2:
        st.info("This run has a single checkpoint: nothing to compare.")
        return
    ids = [cp["id"] for cp in checkpoints]
    position = ids.index(selected)
    parent = by_id[selected].get("parent_id")
    default_old = parent if parent in by_id else ids[position - 1 if position else 1]
    cols = st.columns([4, 4, 2], vertical_alignment="bottom")
    old = cols[0].selectbox(
        "From (older)", ids, index=ids.index(default_old), key=f"diff_from_{selected}", format_func=label
    )
    new = cols[1].selectbox("To (newer)", ids, index=position, key=f"diff_to_{selected}", format_func=label)
    hide = cols[2].toggle("Hide ids and timestamps", value=True, key="diff_hide_bookkeeping")
    if old == new:
        st.info("Pick two different checkpoints.")
        return
    changes = data.diff(old, new)
    hidden = [c for c in changes if is_bookkeeping(c["path"])] if hide else []
    shown = [c for c in changes if c not in hidden] if hidden else changes
    counts = {kind: sum(1 for c in shown if c["kind"] == kind) for kind in MARKS}
    metrics = st.columns(5)
    for column, (kind, count) in zip(metrics, counts.items(), strict=False):
        column.metric(kind.capitalize(), f"{count:,}")
    metrics[4].metric("Hidden (bookkeeping)", f"{len(hidden):,}")
    if not changes:
        st.success("The two documents are identical.")
        return
    if not shown:
        st.success("Only ids and timestamps changed: turn off the toggle to see them.")
        return
    frame = pd.DataFrame(
        {
            "change": [MARKS[c["kind"]] for c in shown],
            "path": [c["path"] if c["kind"] != "moved" else f"{c['from']} → {c['path']}" for c in shown],
            "before": ["" if c["kind"] == "added" else ui.cell(c["old"], 200) for c in shown],
            "after": ["" if c["kind"] == "removed" else ui.cell(c["new"], 200) for c in shown],
        }
    )
    styled = frame.style.map(
        lambda v: f"color: {COLORS.get(v, 'inherit')}; font-weight: 600", subset=["change"]
    )
    st.caption("Select a change to see both values whole, side by side.")
    event = st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(shown), 420),
        on_select="rerun",
        selection_mode="single-row",
        key=f"diff_table_{old}_{new}",
        column_config={
            "change": st.column_config.TextColumn(width=90),
            "path": st.column_config.TextColumn(width=260),
            "before": st.column_config.TextColumn(width=420),
            "after": st.column_config.TextColumn(width=420),
        },
    )
    picked = ui.selected_row(event)
    for change in [shown[picked]] if picked is not None and picked < len(shown) else shown[:SIDE_BY_SIDE]:
        _side_by_side(change)
    if picked is None and len(shown) > SIDE_BY_SIDE:
        st.caption(
            f"The first {SIDE_BY_SIDE} of {len(shown):,} changes; select one in the table for any other."
        )

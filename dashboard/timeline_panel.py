"""The Run page's Timeline tab: the run's events as a trace tree with a waterfall of their
durations (like Phoenix, Langfuse or Temporal), collapse and expand, a search within the run,
errors only with each error's path of parents, and a side panel with the selected event's
fields and payload. Kinds, errors only, search and page are in the URL.

Only widgets; the events come from ``dashboard.data``. Text from a file reaches the page
through tables, chart labels (plain text), ``st.code`` and ``st.json``, never markdown.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.trace import waterfall
from dashboard import data, ui

EVENT_PAGE = 200
KIND_COLORS = {"llm_call": "#4263eb", "usage": "#4263eb", "tool_call": "#0ca678", "error": "#e03131"}
COLLAPSED = "_timeline_collapsed"


def _label(row: dict[str, Any]) -> str:
    flag = "⚠ " if row["error"] or row["kind"] == "error" else ""
    return ("   " * row["depth"]) + ("↳ " if row["depth"] else "") + flag + ui.short(row["name"], 60)


def _branch(row: dict[str, Any]) -> str:
    """▸ collapsed, ▾ open (select the event to collapse or expand it), ◦ shown as a parent."""
    if row["context"]:
        return "◦"
    return ("▸" if row["collapsed"] else "▾") if row["has_children"] else ""


def _chart(rows: list[dict[str, Any]], started: Any) -> dict[str, Any]:
    spans = waterfall(rows, started)
    known = [offset + length for offset, length in spans if offset is not None]
    end = max(known, default=1.0) or 1.0
    labels = [f"{n + 1:>3} {ui.short(r['name'], 40)}" for n, r in enumerate(rows)]
    bases, bars = [], []
    for row, (offset, length) in zip(rows, spans, strict=True):
        failed = bool(row["error"]) or row["kind"] == "error"
        color = "#e03131" if failed else KIND_COLORS.get(row["kind"], "#868e96")
        if row["context"]:
            color = "#ced4da"
        bases.append(offset or 0.0)
        bars.append(
            {
                "value": max(length, end / 300),
                "itemStyle": {"color": color},
                "tooltip": {
                    "formatter": f"{ui.short(row['name'], 80)}\n{row['kind']} · "
                    f"{'no time' if offset is None else f'+{offset:,.3f} s'} · "
                    f"{f'{length:,.3f} s' if length else 'no duration'}".replace("{", "(").replace("}", ")")
                },
            }
        )
    return {
        "animation": False,
        "grid": {"left": 8, "right": 16, "top": 8, "bottom": 28, "containLabel": True},
        "tooltip": {"trigger": "item", "confine": True},
        "xAxis": {
            "type": "value",
            "name": "seconds from the run's start",
            "nameLocation": "middle",
            "nameGap": 22,
        },
        "yAxis": {"type": "category", "inverse": True, "data": labels, "axisLabel": {"fontSize": 10}},
        "series": [
            {
                "type": "bar",
                "stack": "t",
                "data": bases,
                "itemStyle": {"color": "transparent"},
                "silent": True,
            },
            {"type": "bar", "stack": "t", "data": bars, "selectedMode": "single", "barMaxWidth": 14},
        ],
    }


def _picked_bar(state: Any) -> int | None:
    try:
        chosen = state["selection"]["selected"]
    except (KeyError, TypeError):
        return None
    for item in chosen or []:
        if item.get("series_index") == 1 and item.get("data_indices"):
            return int(item["data_indices"][0])
    return None


def _side_panel(row: dict[str, Any], run_id: str) -> None:
    st.markdown(f"**{ui.md_escape(ui.short(row['name'], 80))}**")
    fields = {
        "kind": row["kind"],
        "time": ui.when(row["at"], milliseconds=True, zone=True),
        "duration": f"{row['duration_s']:,.3f} s" if row["duration_s"] is not None else "—",
        "agent": row["agent_id"] or "—",
        "step / tool": row["tool"] or row["step"] or "—",
        "model": row["model"] or "—",
        "tokens": ui.tokens(row["input_tokens"], row["output_tokens"]),
        "cost": ui.money(row["cost_usd"], row.get("cost_provenance")) if row.get("cost_provenance") else "—",
    }
    st.dataframe(
        pd.DataFrame({"field": list(fields), "value": [str(v) for v in fields.values()]}),
        hide_index=True,
        width="stretch",
    )
    if row["error"]:
        st.caption("Error")
        ui.long_text(row["error"], "the error", language=None)
    if row["has_children"]:
        collapsed: set[str] = st.session_state.setdefault(COLLAPSED, {}).setdefault(run_id, set())
        if row["collapsed"]:
            if st.button("Expand its children", key=f"expand_{row['id']}"):
                collapsed.discard(row["id"])
                st.rerun()
        elif st.button("Collapse its children", key=f"collapse_{row['id']}"):
            collapsed.add(row["id"])
            st.rerun()
    st.caption("Payload (as the source recorded it)")
    st.json(data.event_data(row["id"]), expanded=2)


def render_timeline(run_id: str, started: Any = None) -> None:
    collapsed: set[str] = st.session_state.setdefault(COLLAPSED, {}).setdefault(run_id, set())
    kinds = tuple(st.session_state.get("timeline_kinds") or ())
    errors_only = bool(st.session_state.get("timeline_errors", False))
    text = str(st.session_state.get("timeline_q") or "")
    page = int(st.session_state.get("timeline_page") or 1)
    args = (run_id, kinds, errors_only)
    result = data.events(*args, (page - 1) * EVENT_PAGE, EVENT_PAGE, text, tuple(collapsed))
    if not result["kinds"]:
        st.info("No events recorded for this run (its framework may write checkpoints only).")
        return
    page_count = max(1, -(-result["total"] // EVENT_PAGE))
    if page > page_count:
        st.session_state["timeline_page"] = page = page_count
        result = data.events(*args, (page - 1) * EVENT_PAGE, EVENT_PAGE, text, tuple(collapsed))
    cols = st.columns([3, 3, 2, 1.4])
    cols[0].text_input(
        "Search this run's events", key="timeline_q", bind="query-params", placeholder="name, error, tool…"
    )
    cols[1].multiselect(
        "Kinds",
        sorted(set(result["kinds"]) | set(kinds)),
        key="timeline_kinds",
        bind="query-params",
        format_func=lambda k: f"{k} ({result['kinds'].get(k, 0):,})",
    )
    cols[2].toggle(f"Errors only ({result['errors']:,})", key="timeline_errors", bind="query-params")
    if page_count > 1:
        cols[3].number_input(
            "Page", min_value=1, max_value=page_count, key="timeline_page", bind="query-params"
        )
    rows = result["rows"]
    if result.get("cost_note"):
        st.caption(result["cost_note"])
    picked_filter = kinds or errors_only or text.strip()
    summary = f"{result['events']:,} events"
    if picked_filter:
        summary = f"{result['matches']:,} of {summary} match" + (
            ", shown with their parents (◦, grey)" if errors_only or text.strip() else ""
        )
    elif collapsed:
        summary += f" · {len(collapsed):,} collapsed"
    st.caption(summary + " · nested where the source nests them · ⚠ marks errors · select an event to see it")
    if not rows:
        st.info("No event matches.", icon=":material/search:")
        return
    left, right = st.columns([3, 2])
    with left:
        state = st.echarts_chart(
            _chart(rows, started),
            height=min(60 + 20 * len(rows), 520),
            on_select="rerun",
            key=f"waterfall_{run_id}_{page}",
        )
        frame = pd.DataFrame(
            {
                "": [_branch(r) for r in rows],
                "event": [_label(r) for r in rows],
                "duration": [
                    f"{r['duration_s']:,.2f} s" if r["duration_s"] is not None else "" for r in rows
                ],
                "tokens": [
                    ui.tokens(r["input_tokens"], r["output_tokens"])
                    if r["input_tokens"] or r["output_tokens"]
                    else ""
                    for r in rows
                ],
                "cost": [
                    ui.money(r["cost_usd"], r.get("cost_provenance")) if r.get("cost_provenance") else ""
                    for r in rows
                ],
                "error": [ui.short(r["error"], 120) if r["error"] else "" for r in rows],
                "kind": [r["kind"] for r in rows],
                "time": [ui.when(r["at"], milliseconds=True) for r in rows],
                "agent": [r["agent_id"] or "" for r in rows],
                "step / tool": [ui.short(r["tool"] or r["step"] or "", 40) for r in rows],
                "model": [r["model"] or "" for r in rows],
            }
        )
        event = st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            height=min(38 + 35 * len(rows), 560),
            on_select="rerun",
            selection_mode="single-row",
            key="timeline_table",
            column_config={
                "": st.column_config.TextColumn(
                    width=28, pinned=True, help="▾ has children · ▸ collapsed · ◦ a parent shown as context"
                ),
                "event": st.column_config.TextColumn(width=300, pinned=True),
                "duration": st.column_config.TextColumn(width=75),
                "tokens": st.column_config.TextColumn(width=130),
                "cost": st.column_config.TextColumn(width=80),
                "error": st.column_config.TextColumn(width=220),
                "time": st.column_config.TextColumn(f"time ({ui.zone_name()})", width=170),
            },
        )
    chosen = ui.selected_row(event)
    if chosen is None:
        chosen = _picked_bar(state)
    with right, st.container(border=True):
        if chosen is not None and chosen < len(rows):
            _side_panel(rows[chosen], run_id)
        else:
            st.caption("Select an event in the waterfall or the table to see its fields and payload here.")

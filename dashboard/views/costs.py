"""Costs: by model, agent, framework, day and run (the grouping is in the URL, ``?by=``);
unpriced usage called out, never $0. Summed in the database (``core.rollup``)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui

GROUPS = {"model": "Model", "agent": "Agent", "framework": "Framework", "day": "Day", "run": "Run"}

st.title("Costs")
st.caption(
    "Every figure says where it comes from: **reported** by the source, **computed** from tokens and a named, "
    "dated price, or **unpriced** (tokens known, price not; counted apart, never as $0)."
)
by = (
    st.segmented_control(
        "Group by",
        list(GROUPS),
        format_func=GROUPS.get,
        default="model",
        key="by",
        required=True,
        bind="query-params",
    )
    or "model"
)
result = ui.load_or_stop("the costs", lambda: data.costs(by))
if note := data.pricing_note():
    st.info(note, icon=":material/hourglass_top:")
rows, totals = result["rows"], result["totals"]

if not rows:
    st.info(
        "No model calls with tokens or cost have been recorded yet. Frameworks that record usage "
        "(react-agent-harness, techrevati-runtime, loopengt traces) show up here once loaded."
    )
    if not data.overview()["statuses"]:
        ui.empty_database_help()
    st.stop()

cols = st.columns(4)
cols[0].metric("Priced total", ui.money(totals["cost_usd"]) if totals["cost_usd"] is not None else "—")
cols[1].metric("Calls", f"{totals['calls']:,}")
cols[2].metric("Unpriced calls", f"{totals['unpriced_calls']:,}")
cols[3].metric("Unpriced tokens", f"{totals['unpriced_tokens']:,}")
unpriced_models = totals["unpriced_models"]
if unpriced_models:
    st.warning(
        "No price known for: "
        + ", ".join(ui.md_escape(m) for m in unpriced_models)
        + ". Their calls are listed as unpriced. Add prices in `~/.baton/prices.toml` (or `BATON_PRICES`).",
        icon=":material/payments:",
    )

if by == "day":
    days = sorted((r for r in rows if r["key"] and r["cost_usd"] is not None), key=lambda r: r["key"])
    if days:
        st.bar_chart(
            pd.DataFrame({"day": [r["key"] for r in days], "cost (USD)": [r["cost_usd"] for r in days]}),
            x="day",
            y="cost (USD)",
            height=240,
        )

names = data.run_names(tuple(r["key"] for r in rows)) if by == "run" else {}
columns = {GROUPS[by].lower(): [names.get(r["key"]) or r["key"] or "(none)" for r in rows]}
if by == "run":
    columns["id"] = [str(r["key"])[:8] for r in rows]
frame = pd.DataFrame(
    columns
    | {
        "cost": [
            ui.money(r["cost_usd"], r["provenance"])
            + (
                f" + {r['unpriced_calls']:,} unpriced"
                if r["cost_usd"] is not None and r["unpriced_calls"]
                else ""
            )
            for r in rows
        ],
        "provenance": [r["provenance"] or "" for r in rows],
        "calls": [r["calls"] for r in rows],
        "input tokens": [r["input_tokens"] for r in rows],
        "output tokens": [r["output_tokens"] for r in rows],
        "cache read": [r["cache_read_tokens"] for r in rows],
        "cache write": [r["cache_write_tokens"] for r in rows],
        "unpriced calls": [r["unpriced_calls"] for r in rows],
        "prices used": ["; ".join(f"{k}: {v}" for k, v in r["prices"].items()) for r in rows],
    }
)
if result["groups"] > len(rows):
    st.caption(f"The {len(rows):,} costliest of {result['groups']:,} {GROUPS[by].lower()}s.")
number = {"format": "localized", "width": 95}
event = st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    key=f"costs_table_{by}",
    on_select="rerun" if by == "run" else "ignore",
    selection_mode="single-row",
    column_config={
        GROUPS[by].lower(): st.column_config.TextColumn(width=260, pinned=True),
        "cost": st.column_config.TextColumn(width=150),
        "provenance": st.column_config.TextColumn(width=130),
        "calls": st.column_config.NumberColumn(**number),
        "input tokens": st.column_config.NumberColumn(**number),
        "output tokens": st.column_config.NumberColumn(**number),
        "cache read": st.column_config.NumberColumn(**number),
        "cache write": st.column_config.NumberColumn(**number),
        "unpriced calls": st.column_config.NumberColumn(**number),
        "prices used": st.column_config.TextColumn(width="large", help="Hover a cell to read it whole"),
    },
)
if by == "run":
    st.caption("Select a row to open the run.")
    picked = ui.selected_row(event)
    if picked is not None:
        ui.open_run(rows[picked]["key"])

"""Costs: by model, agent, framework, day and run; unpriced usage called out, never $0."""

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
        "Group by", list(GROUPS), format_func=GROUPS.get, default="model", key="costs_by", required=True
    )
    or "model"
)
rows = ui.load_or_stop("the costs", lambda: data.costs(by))

if not rows:
    st.info(
        "No model calls with tokens or cost have been recorded yet. Frameworks that record usage "
        "(react-agent-harness, techrevati-runtime, loopengt traces) show up here once loaded."
    )
    if not data.overview()["statuses"]:
        ui.empty_database_help()
    st.stop()

priced = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
cols = st.columns(4)
cols[0].metric("Priced total", ui.money(sum(priced)) if priced else "—")
cols[1].metric("Calls", f"{sum(r['calls'] for r in rows):,}")
cols[2].metric("Unpriced calls", f"{sum(r['unpriced_calls'] for r in rows):,}")
cols[3].metric("Unpriced tokens", f"{sum(r['unpriced_tokens'] for r in rows):,}")
unpriced_models = sorted({m for r in rows for m in r["unpriced_models"]})
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

labels = {r["key"]: r["key"] for r in rows}
if by == "run":
    labels = data.run_names(tuple(r["key"] for r in rows))
frame = pd.DataFrame(
    {
        GROUPS[by].lower(): [ui.tail(labels.get(r["key"], r["key"]) or "(none)", 60) for r in rows],
        "cost": [
            ui.money(r["cost_usd"], r["provenance"])
            + (
                f" + {r['unpriced_calls']} unpriced"
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
        "prices used": [ui.short("; ".join(f"{k}: {v}" for k, v in r["prices"].items()), 120) for r in rows],
    }
)
event = st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    key=f"costs_table_{by}",
    on_select="rerun" if by == "run" else "ignore",
    selection_mode="single-row",
)
if by == "run":
    st.caption("Select a row to open the run.")
    picked = ui.selected_row(event)
    if picked is not None:
        ui.open_run(rows[picked]["key"])

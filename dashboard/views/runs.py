"""Runs: filter, sort and page every run (all in the database); select a row to open it.

Filters live in the URL (so a filtered list can be bookmarked and the back button returns
to it) and in the session (so they survive a trip through the sidebar).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pandas as pd
import streamlit as st

from dashboard import data, ui

SAVED = "_runs_filters"
LIST_KEYS = ("status", "framework")
TEXT_KEYS = ("q", "agent")
SORT_LABELS = {
    "started_at": "Started",
    "ended_at": "Ended",
    "status": "Status",
    "framework": "Framework",
    "task": "Task",
    "cost": "Cost (reported)",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "checkpoints": "Checkpoints",
    "events": "Events",
}
PAGE_SIZE = 50


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _initial_state() -> None:
    """Widget values from the URL when it carries filters, else from the session."""
    params = st.query_params
    from_url = any(
        key in params for key in (*LIST_KEYS, *TEXT_KEYS, "from", "to", "min", "max", "sort", "page")
    )
    saved = st.session_state.get(SAVED, {})
    if from_url:
        values = {
            "status": params.get_all("status"),
            "framework": params.get_all("framework"),
            "q": params.get("q", ""),
            "agent": params.get("agent", ""),
            "from": _parse_date(params.get("from")),
            "to": _parse_date(params.get("to")),
            "min": _parse_float(params.get("min")),
            "max": _parse_float(params.get("max")),
            "sort": params.get("sort", "started_at"),
            "asc": params.get("asc") == "1",
            "page": int(_parse_float(params.get("page")) or 1),
        }
    else:
        values = saved
    defaults = {
        "status": [],
        "framework": [],
        "q": "",
        "agent": "",
        "from": None,
        "to": None,
        "min": None,
        "max": None,
        "sort": "started_at",
        "asc": False,
        "page": 1,
    }
    for name, default in defaults.items():
        key = f"runs_{name}"
        if key not in st.session_state:
            st.session_state[key] = values.get(name, default)


def _sync_url(values: dict) -> None:
    wanted: dict[str, list[str] | str] = {}
    for name in LIST_KEYS:
        if values[name]:
            wanted[name] = list(values[name])
    for name in TEXT_KEYS:
        if values[name]:
            wanted[name] = values[name]
    for name in ("from", "to"):
        if values[name]:
            wanted[name] = values[name].isoformat()
    for name in ("min", "max"):
        if values[name] is not None:
            wanted[name] = f"{values[name]:g}"
    if values["sort"] != "started_at":
        wanted["sort"] = values["sort"]
    if values["asc"]:
        wanted["asc"] = "1"
    if values["page"] > 1:
        wanted["page"] = str(values["page"])
    current = {
        key: (st.query_params.get_all(key) if key in LIST_KEYS else st.query_params.get(key))
        for key in st.query_params
    }
    if current != wanted:
        st.query_params.from_dict(wanted)


def _reset_page() -> None:
    st.session_state["runs_page"] = 1


st.title("Runs")
_initial_state()
try:
    facets = data.facets()
except Exception as exc:
    ui.show_error("the runs", exc)
    st.stop()

with st.container(border=True):
    row1 = st.columns([3, 2, 2, 2])
    row1[0].text_input(
        "Search task, summary, failure reason or id",
        key="runs_q",
        on_change=_reset_page,
        placeholder="e.g. timeout",
    )
    statuses = sorted(set(facets["statuses"]) | set(st.session_state["runs_status"]))
    row1[1].multiselect(
        "Status", statuses, key="runs_status", on_change=_reset_page, format_func=ui.status_label
    )
    frameworks = sorted(set(facets["frameworks"]) | set(st.session_state["runs_framework"]))
    row1[2].multiselect("Framework", frameworks, key="runs_framework", on_change=_reset_page)
    row1[3].text_input("Agent", key="runs_agent", on_change=_reset_page, placeholder="agent id contains…")
    row2 = st.columns([2, 2, 1.6, 1.6, 2, 1.6])
    row2[0].date_input("Started on or after", key="runs_from", on_change=_reset_page, format="YYYY-MM-DD")
    row2[1].date_input("Started before", key="runs_to", on_change=_reset_page, format="YYYY-MM-DD")
    row2[2].number_input("Cost at least ($)", key="runs_min", min_value=0.0, step=0.01, on_change=_reset_page)
    row2[3].number_input("Cost at most ($)", key="runs_max", min_value=0.0, step=0.01, on_change=_reset_page)
    row2[4].selectbox("Sort by", list(SORT_LABELS), key="runs_sort", format_func=SORT_LABELS.get)
    row2[5].toggle("Ascending", key="runs_asc")

values = {
    name: st.session_state[f"runs_{name}"]
    for name in ("status", "framework", "q", "agent", "from", "to", "min", "max", "sort", "asc", "page")
}
flt = data.RunFilter(
    statuses=tuple(values["status"]),
    frameworks=tuple(values["framework"]),
    agent=values["agent"] or None,
    started_from=datetime.combine(values["from"], time.min, UTC) if values["from"] else None,
    started_to=datetime.combine(values["to"], time.min, UTC) if values["to"] else None,
    cost_min=values["min"],
    cost_max=values["max"],
    text=values["q"] or None,
)
try:
    result = data.search_runs(flt, values["sort"], not values["asc"], int(values["page"]) - 1, PAGE_SIZE)
except Exception as exc:
    ui.show_error("the runs", exc)
    st.stop()

st.session_state[SAVED] = values
_sync_url(values)

if result["total"] == 0:
    if flt.is_empty():
        ui.empty_database_help()
    else:
        st.info("No run matches these filters.", icon=":material/search:")
    st.stop()

rows = result["rows"]
first = result["page"] * result["page_size"] + 1
st.caption(
    f"{result['total']:,} runs · showing {first:,}–{first + len(rows) - 1:,} · select a row to open the run"
)
if result["costs_note"]:
    st.caption(result["costs_note"])
frame = pd.DataFrame(
    {
        "status": [ui.status_label(r["status"]) for r in rows],
        "framework": [r["framework"] for r in rows],
        "run": [ui.tail(r["native_id"], 34) for r in rows],
        "task": [ui.short(r["task"], 80) for r in rows],
        "started": [ui.when(r["started_at"]) for r in rows],
        "duration": [ui.duration(r["started_at"], r["ended_at"]) for r in rows],
        "cost": [ui.money(r["cost_usd"], r.get("cost_provenance")) for r in rows],
        "failure reason": [ui.short(r["failure_reason"], 100) for r in rows],
        "agents": [ui.short(", ".join(r["agents"]), 40) for r in rows],
        "checkpoints": [r["checkpoints"] for r in rows],
        "events": [r["events"] for r in rows],
        "tokens": [ui.tokens(r["input_tokens"], r["output_tokens"]) for r in rows],
    }
)
event = st.dataframe(
    ui.status_colored(frame),
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(rows), 740),
    on_select="rerun",
    selection_mode="single-row",
    key="runs_table",
    column_config={
        "status": st.column_config.TextColumn(width="small"),
        "run": st.column_config.TextColumn(width="medium"),
        "task": st.column_config.TextColumn(width="medium"),
        "duration": st.column_config.TextColumn(width="small"),
        "cost": st.column_config.TextColumn(width="small"),
        "failure reason": st.column_config.TextColumn(width="large"),
        "checkpoints": st.column_config.NumberColumn("ckpts", width="small"),
        "events": st.column_config.NumberColumn(width="small"),
    },
)
picked = ui.selected_row(event)
if picked is not None:
    ui.open_run(rows[picked]["id"])

if result["pages"] > 1:
    nav = st.columns([1, 2, 6])
    st.session_state["runs_page"] = result["page"] + 1
    nav[0].number_input("Page", min_value=1, max_value=result["pages"], key="runs_page")
    nav[1].caption(f"of {result['pages']:,} pages")

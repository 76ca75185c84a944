"""Runs: filter, sort and page every run (all in the database, the priced cost too); select a
row to open it.

Filters, sort, page and page size live in the URL (so a filtered list can be bookmarked and
the back button returns to it) and in the session (so they survive a trip through the
sidebar). A ``?page=`` past the end shows the last page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pandas as pd
import streamlit as st

from dashboard import data, ui

SAVED = "_runs_filters"
LIST_KEYS = ("status", "framework", "failure_class")
TEXT_KEYS = ("q", "agent")
SORT_LABELS = {
    "started_at": "Started",
    "ended_at": "Ended",
    "status": "Status",
    "framework": "Framework",
    "task": "Task",
    "cost": "Cost",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "checkpoints": "Checkpoints",
    "events": "Events",
}
PAGE_SIZES = (25, 50, 100, 200)


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
        key in params
        for key in (*LIST_KEYS, *TEXT_KEYS, "from", "to", "min", "max", "sort", "asc", "page", "size")
    )
    saved = st.session_state.get(SAVED, {})
    if from_url:
        values = {
            "status": params.get_all("status"),
            "framework": params.get_all("framework"),
            "failure_class": params.get_all("failure_class"),
            "q": params.get("q", ""),
            "agent": params.get("agent", ""),
            "from": _parse_date(params.get("from")),
            "to": _parse_date(params.get("to")),
            "min": _parse_float(params.get("min")),
            "max": _parse_float(params.get("max")),
            "sort": params.get("sort", "started_at"),
            "asc": params.get("asc") == "1",
            "page": max(1, int(_parse_float(params.get("page")) or 1)),
            "size": int(_parse_float(params.get("size")) or 50),
        }
    else:
        values = saved
    defaults = {
        "status": [],
        "framework": [],
        "failure_class": [],
        "q": "",
        "agent": "",
        "from": None,
        "to": None,
        "min": None,
        "max": None,
        "sort": "started_at",
        "asc": False,
        "page": 1,
        "size": 50,
    }
    if values.get("size") not in PAGE_SIZES:
        values = {**values, "size": 50}
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
    if values["size"] != 50:
        wanted["size"] = str(values["size"])
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
    if st.session_state["runs_failure_class"]:
        st.multiselect(
            "Failure class",
            sorted(set(data.failure_classes()) | set(st.session_state["runs_failure_class"])),
            key="runs_failure_class",
            on_change=_reset_page,
        )
    row2 = st.columns([2, 2, 1.6, 1.6, 2, 1.6])
    row2[0].date_input("Started on or after", key="runs_from", on_change=_reset_page, format="YYYY-MM-DD")
    row2[1].date_input("Started before", key="runs_to", on_change=_reset_page, format="YYYY-MM-DD")
    row2[2].number_input("Cost at least ($)", key="runs_min", min_value=0.0, step=0.01, on_change=_reset_page)
    row2[3].number_input("Cost at most ($)", key="runs_max", min_value=0.0, step=0.01, on_change=_reset_page)
    row2[4].selectbox(
        "Sort by", list(SORT_LABELS), key="runs_sort", format_func=SORT_LABELS.get, on_change=_reset_page
    )
    row2[5].toggle("Ascending", key="runs_asc", on_change=_reset_page)

NAMES = ("status", "framework", "failure_class", "q", "agent", "from", "to", "min", "max", "sort", "asc")
values = {name: st.session_state[f"runs_{name}"] for name in (*NAMES, "page", "size")}
flt = data.RunFilter(
    statuses=tuple(values["status"]),
    frameworks=tuple(values["framework"]),
    failure_classes=tuple(values["failure_class"]),
    agent=values["agent"] or None,
    started_from=datetime.combine(values["from"], time.min, UTC) if values["from"] else None,
    started_to=datetime.combine(values["to"], time.min, UTC) if values["to"] else None,
    cost_min=values["min"],
    cost_max=values["max"],
    text=values["q"] or None,
)
try:
    result = data.search_runs(
        flt, values["sort"], not values["asc"], int(values["page"]) - 1, int(values["size"])
    )
except Exception as exc:
    ui.show_error("the runs", exc)
    st.stop()

values["page"] = result["page"] + 1  # a stale ?page= past the end: the last page
st.session_state["runs_page"] = values["page"]
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
    f"{result['total']:,} runs · showing {first:,}–{first + len(rows) - 1:,} · sorted by "
    f"{SORT_LABELS.get(values['sort'], values['sort']).lower()} ({'ascending' if values['asc'] else 'descending'}) "
    "· select a row to open the run"
)
if result["costs_note"]:
    st.caption(result["costs_note"])
frame = pd.DataFrame(
    {
        "status": [ui.status_label(r["status"]) for r in rows],
        "run": [ui.run_label(r) for r in rows],
        "id": [ui.run_short_id(r) for r in rows],
        "started": [ui.when(r["started_at"]) for r in rows],
        "duration": [ui.duration(r["started_at"], r["ended_at"]) for r in rows],
        "cost": [ui.money(r["cost_usd"], r.get("cost_provenance")) for r in rows],
        "failure": [ui.failure_cell(r) for r in rows],
        "framework": [r["framework"] for r in rows],
        "agents": [ui.short(", ".join(r["agents"]), 40) for r in rows],
        "ckpts": [r["checkpoints"] for r in rows],
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
        "status": st.column_config.TextColumn(width=80),
        "run": st.column_config.TextColumn(
            width=300, help="The task, else agent · phase · project, else the file's name", pinned=True
        ),
        "id": st.column_config.TextColumn(
            width=80,
            help="The start of Baton's run id: any unique prefix opens the run (Run page, baton show)",
        ),
        "started": st.column_config.TextColumn(f"started ({ui.zone_name()})", width=150),
        "duration": st.column_config.TextColumn(width=75),
        "cost": st.column_config.TextColumn(width=80, help="Reported or computed; unpriced is never $0"),
        "failure": st.column_config.TextColumn(width=330, help="Failure class: reason"),
        "framework": st.column_config.TextColumn(width=90),
        "agents": st.column_config.TextColumn(width=140),
        "ckpts": st.column_config.NumberColumn(width=60, format="localized"),
        "events": st.column_config.NumberColumn(width=60, format="localized"),
    },
)
picked = ui.selected_row(event)
if picked is not None:
    ui.open_run(rows[picked]["id"])

nav = st.columns([6, 1.4], vertical_alignment="bottom")
with nav[0]:
    st.pagination(result["pages"], key="runs_page", max_visible_pages=9)
nav[1].selectbox(
    "Rows per page",
    PAGE_SIZES,
    key="runs_size",
    on_change=_reset_page,
    label_visibility="collapsed",
    format_func=lambda n: f"{n} per page",
)

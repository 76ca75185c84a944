"""Run: header, checkpoint lineage, checkpoint detail, diff, timeline, resume.

The URL names the run and the checkpoint (``?run=<id>&checkpoint=<id>``), so both can be
bookmarked and the back button returns to them. Every value from a file is shown as plain
text (code blocks, tables, JSON viewers).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.diff_panel import render_diff
from dashboard.lineage_panel import render_lineage
from dashboard.timeline_panel import render_timeline

TABS = ["Lineage", "Diff", "Timeline", "Resume"]


def checkpoint_label(cp: dict) -> str:
    step = f" · step {cp['step']}" if cp.get("step") is not None else ""
    return (
        f"{ui.tail(cp['native_id'], 40)}{step} · {cp['status']} · {ui.short(cp['agent_id'] or '-', 24)}"
        f" · {ui.when(cp['created_at'])}"
    )


def pick_run() -> None:
    st.title("Run")
    st.info(
        "Open a run from the **Runs** or **Failures** page, or paste its id here.", icon=":material/link:"
    )
    ref = st.text_input("Run id (Baton id, the framework's own id, or a unique prefix)", key="run_ref")
    if ref:
        run_id, problem = data.find_run(ref)
        if run_id:
            ui.open_run(run_id)
        st.error(ui.md_escape(problem or f"No single run matches {ref}."))


def header(run: dict, failure: dict | None, by_id: dict[str, dict]) -> None:
    st.title(
        ui.md_escape(ui.run_label(run)),
        help=f"Baton id {run['id']} · {run['framework']} id {run['native_id']}",
    )
    st.caption(
        f"{ui.md_escape(run['framework'])} run · id {run['short_id']} · "
        f"started {ui.md_escape(ui.when(run['started_at'], zone=True))} {ui.md_escape(ui.ago(run['started_at']))}"
    )
    if run["task"] and run["task"].strip() != run["name"]:
        ui.long_text(run["task"], "the task", limit=300, language=None)
    cols = st.columns(5)
    cols[0].metric("Status", run["status"])
    cols[1].metric("Checkpoints", f"{run['checkpoints']:,}")
    cols[2].metric("Events", f"{run['events']:,}")
    cols[3].metric("Duration", ui.duration(run["started_at"], run["ended_at"]))
    cost = run.get("cost") or {}
    cols[4].metric(
        "Cost",
        ui.money(cost.get("cost_usd"), cost.get("provenance")) if cost else "—",
        help="Provenance: " + (cost.get("provenance") or "no model calls recorded"),
    )
    facts = {
        "Framework": run["framework"],
        "Baton id": run["id"],
        "Agents": ", ".join(run["agents"]) or "—",
        "Started": ui.when(run["started_at"], zone=True),
        "Ended": ui.when(run["ended_at"], zone=True),
        "Tokens": ui.tokens(
            cost.get("input_tokens", run["input_tokens"]), cost.get("output_tokens", run["output_tokens"])
        ),
        "Cost provenance": _provenance(cost),
    }
    left, right = st.columns([3, 2]) if run["status"] == "failed" else (st.container(), None)
    with left:
        st.dataframe(
            pd.DataFrame({"": list(facts), "value": list(facts.values())}),
            hide_index=True,
            width="stretch",
            column_config={"": st.column_config.TextColumn(width="small")},
        )
        ui.copy_button(run["id"], "Copy the Baton id")
        sources_note(run)
        for note in run["notes"]:
            st.caption(ui.md_escape(note))
    if right is not None:
        with right, st.container(border=True):
            failure_box(run, failure, by_id)


def sources_note(run: dict) -> None:
    """One session recorded by several files (a summary beside its event stream, a sink and
    a store) is one run: say which files, so nobody looks for the copies."""
    sources = (run.get("attributes") or {}).get("sources") or []
    if len(sources) > 1:
        listed = "\n".join(f"- {ui.md_escape(source)}" for source in sources)
        st.markdown(
            f"Recorded by **{len(sources)} files**, shown as one run (nothing summed twice):\n{listed}"
        )


def failure_box(run: dict, failure: dict | None, by_id: dict[str, dict]) -> None:
    klass = (failure or {}).get("failure_class") or "not classified"
    st.markdown(f"**Failure class:** :red[{ui.md_escape(klass)}]")
    where = {
        "Agent": (failure or {}).get("agent"),
        "Step": (failure or {}).get("step"),
        "Tool": (failure or {}).get("tool"),
        "At": ui.when((failure or {}).get("failed_at"), zone=True)
        if (failure or {}).get("failed_at")
        else None,
    }
    where = {k: str(v) for k, v in where.items() if v not in (None, "")}
    if where:
        st.dataframe(
            pd.DataFrame({"where it failed": list(where), "": list(where.values())}),
            hide_index=True,
            width="stretch",
        )
    reason = (failure or {}).get("reason") or run["failure_reason"]
    if reason:
        ui.long_text(reason, "the failure reason", language=None)
    good = (failure or {}).get("last_good_checkpoint")
    if good and good in by_id:
        st.caption(f"Last good checkpoint: {ui.md_escape(checkpoint_label(by_id[good]))}")
        if st.button("Select the last good checkpoint", key="go_last_good"):
            st.query_params["checkpoint"] = good
            st.rerun()
    elif failure is not None:
        st.caption("No checkpoint before the failure is usable for a resume.")


def _provenance(cost: dict) -> str:
    if not cost:
        return "no model calls with tokens or cost"
    parts = [cost.get("provenance") or "—"]
    if cost.get("unpriced_calls"):
        parts.append(
            f"{cost['unpriced_calls']} calls unpriced ({cost['unpriced_tokens']:,} tokens, "
            f"{', '.join(cost.get('unpriced_models') or [])})"
        )
    if cost.get("prices"):
        parts.append("prices: " + "; ".join(f"{k} = {v}" for k, v in cost["prices"].items()))
    return " · ".join(parts)


def lineage_tab(run_id: str, selected: str, by_id: dict[str, dict]) -> None:
    render_lineage(run_id, selected, by_id, lambda c: checkpoint_label(by_id[c]))


def diff_tab(checkpoints: list[dict], selected: str, by_id: dict[str, dict]) -> None:
    render_diff(checkpoints, selected, by_id, lambda c: checkpoint_label(by_id[c]))


def timeline_tab(run_id: str, started: object = None) -> None:
    render_timeline(run_id, started)


def opening_checkpoint(checkpoints: list[dict]) -> str:
    """Where a run opens: its newest failed checkpoint when it has one (the last good one is a
    click away in the failure box), else its newest."""
    failed = [cp["id"] for cp in checkpoints if cp["status"] == "failed"]
    return failed[-1] if failed else checkpoints[-1]["id"]


def resume_tab(run_id: str, selected: str) -> None:
    from dashboard.resume_panel import render_resume_panel  # the export modules: on this tab only

    try:
        render_resume_panel(run_id, selected)
    except Exception as exc:
        ui.show_error("the resume panel", exc)


ref = st.query_params.get("run")
if not ref:
    pick_run()
    st.stop()
run_id, problem = data.find_run(ref)
run = data.run(run_id) if run_id else None
if run is None:
    st.title("Run")
    st.error(ui.md_escape(problem or f"No run with id {ref} in this database."), icon=":material/search:")
    st.page_link(ui.PAGES["runs"], label="Back to the runs", icon=":material/arrow_back:")
    st.stop()

checkpoints = data.checkpoints(run_id)
by_id = {cp["id"]: cp for cp in checkpoints}
header(run, run.get("failure"), by_id)
if not checkpoints:
    st.info("This run has no checkpoints (its framework recorded only events).")
    timeline_tab(run_id, run["started_at"])
    st.stop()

ids = [cp["id"] for cp in checkpoints]
wanted = st.query_params.get("checkpoint")
if wanted not in by_id:
    wanted = opening_checkpoint(checkpoints)
if st.session_state.get("checkpoint_select") != wanted:
    st.session_state["checkpoint_select"] = wanted


def _checkpoint_changed() -> None:
    st.query_params["checkpoint"] = st.session_state["checkpoint_select"]


selected = st.selectbox(
    "Checkpoint",
    ids,
    key="checkpoint_select",
    on_change=_checkpoint_changed,
    format_func=lambda c: ("✖ " if by_id[c]["status"] == "failed" else "") + checkpoint_label(by_id[c]),
)
tabs = st.tabs(TABS, key="tab", bind="query-params")
if tabs[0].open:
    with tabs[0]:
        lineage_tab(run_id, selected, by_id)
if tabs[1].open:
    with tabs[1]:
        diff_tab(checkpoints, selected, by_id)
if tabs[2].open:
    with tabs[2]:
        timeline_tab(run_id, run["started_at"])
if tabs[3].open:
    with tabs[3]:
        resume_tab(run_id, selected)

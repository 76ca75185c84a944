"""Run: header, checkpoint lineage, checkpoint detail, diff, timeline, resume.

The URL names the run and the checkpoint (``?run=<id>&checkpoint=<id>``), so both can be
bookmarked and the back button returns to them. Every value from a file is shown as plain
text (code blocks, tables, JSON viewers).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui

TABS = ["Lineage", "Diff", "Timeline", "Resume"]
EVENT_PAGE = 200


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
        run_id = data.resolve_run(ref)
        if run_id:
            ui.open_run(run_id)
        st.error(f"No single run matches {ui.md_escape(ref)!s}.")


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
        "Started": ui.when(run["started_at"]),
        "Ended": ui.when(run["ended_at"]),
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
        for note in run["notes"]:
            st.caption(ui.md_escape(note))
    if right is not None:
        with right, st.container(border=True):
            failure_box(run, failure, by_id)


def failure_box(run: dict, failure: dict | None, by_id: dict[str, dict]) -> None:
    klass = (failure or {}).get("failure_class") or "not classified"
    st.markdown(f"**Failure class:** {ui.md_escape(klass)}")
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
    expand = st.toggle("Show every checkpoint (no collapsed stretches)", key="lineage_expand")
    graph = data.lineage(run_id, selected, expand)
    bits = [
        f"{graph['checkpoints']} checkpoints",
        f"{graph['roots']} chain(s)",
        f"{graph['forks']} fork(s)",
        f"{graph['restarts']} restart(s)",
        f"{len(graph['handoffs'])} handoff(s)",
    ]
    if graph["collapsed"]:
        bits.append(f"{graph['collapsed']} long stretch(es) collapsed")
    if graph["missing_parents"]:
        bits.append(f"{graph['missing_parents']} with a parent that is not loaded")
    st.caption(
        " · ".join(bits) + " · blue outline: selected · red: failed · amber: waiting/paused · "
        "purple edge: handoff · dashed orange: restart"
    )
    # A small graph at its natural size; a big one fitted to the page.
    st.graphviz_chart(graph["dot"], width="stretch" if graph["nodes"] > 6 else "content")
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
        "Created": ui.when(cp["created_at"]),
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


def diff_tab(checkpoints: list[dict], selected: str, by_id: dict[str, dict]) -> None:
    if len(checkpoints) < 2:
        st.info("This run has a single checkpoint: nothing to compare.")
        return
    ids = [cp["id"] for cp in checkpoints]
    position = ids.index(selected)
    parent = by_id[selected].get("parent_id")
    default_old = parent if parent in by_id else ids[position - 1 if position else 1]
    cols = st.columns(2)
    old = cols[0].selectbox(
        "From (older)",
        ids,
        index=ids.index(default_old),
        key=f"diff_from_{selected}",
        format_func=lambda c: checkpoint_label(by_id[c]),
    )
    new = cols[1].selectbox(
        "To (newer)",
        ids,
        index=position,
        key=f"diff_to_{selected}",
        format_func=lambda c: checkpoint_label(by_id[c]),
    )
    if old == new:
        st.info("Pick two different checkpoints.")
        return
    changes = data.diff(old, new)
    counts = {
        kind: sum(1 for c in changes if c["kind"] == kind)
        for kind in ("added", "removed", "changed", "moved")
    }
    metrics = st.columns(4)
    for column, (kind, count) in zip(metrics, counts.items(), strict=True):
        column.metric(kind.capitalize(), count)
    if not changes:
        st.success("The two documents are identical.")
        return
    marks = {"added": "+ added", "removed": "− removed", "changed": "~ changed", "moved": "→ moved"}
    frame = pd.DataFrame(
        {
            "change": [marks[c["kind"]] for c in changes],
            "path": [c["path"] if c["kind"] != "moved" else f"{c['from']} → {c['path']}" for c in changes],
            "before": ["" if c["kind"] == "added" else ui.cell(c["old"]) for c in changes],
            "after": ["" if c["kind"] == "removed" else ui.cell(c["new"]) for c in changes],
        }
    )
    colors = {"+ added": "#2b8a3e", "− removed": "#c92a2a", "~ changed": "#e67700", "→ moved": "#1c7ed6"}
    styled = frame.style.map(
        lambda v: f"color: {colors.get(v, 'inherit')}; font-weight: 600", subset=["change"]
    )
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(changes), 600),
        column_config={"path": st.column_config.TextColumn(width="medium")},
    )
    with st.expander("Full values of every change"):
        st.json(changes[:500], expanded=1)
        if len(changes) > 500:
            st.caption(f"First 500 of {len(changes):,} changes.")


def timeline_tab(run_id: str) -> None:
    # One query for the page: the widgets below keep their values in the session.
    kinds = tuple(st.session_state.get("timeline_kinds", ()))
    errors_only = bool(st.session_state.get("timeline_errors", False))
    page = int(st.session_state.get("timeline_page", 1))
    result = data.events(run_id, kinds, errors_only, (page - 1) * EVENT_PAGE, EVENT_PAGE)
    if not result["kinds"]:
        st.info("No events recorded for this run (its framework may write checkpoints only).")
        return
    page_count = max(1, -(-result["total"] // EVENT_PAGE))
    if page > page_count:
        st.session_state["timeline_page"] = page = page_count
        result = data.events(run_id, kinds, errors_only, (page - 1) * EVENT_PAGE, EVENT_PAGE)
    cols = st.columns([4, 2, 2])
    cols[0].multiselect(
        "Kinds",
        sorted(set(result["kinds"]) | set(kinds)),
        key="timeline_kinds",
        format_func=lambda k: f"{k} ({result['kinds'].get(k, 0):,})",
    )
    cols[1].toggle(f"Errors only ({result['errors']:,})", key="timeline_errors")
    if page_count > 1:
        cols[2].number_input("Page", min_value=1, max_value=page_count, key="timeline_page")
    rows = result["rows"]
    if result.get("cost_note"):
        st.caption(result["cost_note"])
    st.caption(
        f"{result['total']:,} events · nested where the source nests them · ⚠ marks errors · "
        "select a row to see its payload"
    )
    frame = pd.DataFrame(
        {
            "time": [ui.when(r["at"], milliseconds=True) for r in rows],
            "event": [
                ("   " * r["depth"])
                + ("↳ " if r["depth"] else "")
                + ("⚠ " if r["error"] or r["kind"] == "error" else "")
                + ui.short(r["name"], 60)
                for r in rows
            ],
            "kind": [r["kind"] for r in rows],
            "agent": [r["agent_id"] or "" for r in rows],
            "step / tool": [ui.short(r["tool"] or r["step"] or "", 40) for r in rows],
            "model": [r["model"] or "" for r in rows],
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
            "duration": [f"{r['duration_s']:.2f} s" if r["duration_s"] is not None else "" for r in rows],
            "error": [ui.short(r["error"], 120) if r["error"] else "" for r in rows],
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
        column_config={"event": st.column_config.TextColumn(width="large")},
    )
    picked = ui.selected_row(event)
    if picked is not None and picked < len(rows):
        st.caption(f"Payload of {ui.md_escape(ui.short(rows[picked]['name'], 60))}")
        if rows[picked]["error"]:
            ui.long_text(rows[picked]["error"], "the error", language=None)
        st.json(data.event_data(rows[picked]["id"]), expanded=2)


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
run_id = data.resolve_run(ref)
run = data.run(run_id) if run_id else None
if run is None:
    st.title("Run")
    st.error(f"No run with id {ui.md_escape(ref)} in this database.", icon=":material/search:")
    st.page_link(ui.PAGES["runs"], label="Back to the runs", icon=":material/arrow_back:")
    st.stop()

checkpoints = data.checkpoints(run_id)
by_id = {cp["id"]: cp for cp in checkpoints}
header(run, run.get("failure"), by_id)
if not checkpoints:
    st.info("This run has no checkpoints (its framework recorded only events).")
    timeline_tab(run_id)
    st.stop()

ids = [cp["id"] for cp in checkpoints]
wanted = st.query_params.get("checkpoint")
if wanted not in by_id:
    wanted = ids[-1]
if st.session_state.get("checkpoint_select") != wanted:
    st.session_state["checkpoint_select"] = wanted


def _checkpoint_changed() -> None:
    st.query_params["checkpoint"] = st.session_state["checkpoint_select"]


selected = st.selectbox(
    "Checkpoint",
    ids,
    key="checkpoint_select",
    on_change=_checkpoint_changed,
    format_func=lambda c: checkpoint_label(by_id[c]),
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
        timeline_tab(run_id)
if tabs[3].open:
    with tabs[3]:
        resume_tab(run_id, selected)

"""Small widgets the pages share: safe text, formatting, empty states, live refresh.

Text from an input file is shown with ``st.text``/``st.code``/``st.json``/``st.dataframe``,
or passed through :func:`md_escape` before it reaches markdown. Nothing here uses
``unsafe_allow_html``.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import data

LONG = 400  # characters shown before "show all"
_PUNCTUATION = set(string.punctuation)
PAGES = {
    "overview": "views/overview.py",
    "runs": "views/runs.py",
    "run": "views/run.py",
    "costs": "views/costs.py",
    "failures": "views/failures.py",
    "ingest": "views/ingest.py",
}


def md_escape(text: Any) -> str:
    """Plain text for a markdown slot: every ASCII punctuation character is backslash-escaped
    (CommonMark), so file data cannot make links, images, colours, maths or tags."""
    value = "" if text is None else str(text)
    value = " ".join(value.split())  # no block structure from newlines
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in value)


def short(text: Any, width: int = 80) -> str:
    value = "" if text is None else str(text)
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


def tail(text: Any, width: int = 40) -> str:
    """Keep the end of a long id (paths and ``file#key`` ids differ at the end)."""
    value = "" if text is None else " ".join(str(text).split())
    return value if len(value) <= width else "…" + value[-(width - 1) :]


def run_label(run: dict[str, Any]) -> str:
    """A run's short human name (``core.run_names``), else the tail of its own id."""
    return run.get("name") or tail(run.get("native_id"), 40) or "—"


def run_short_id(run: dict[str, Any]) -> str:
    return str(run.get("id") or run.get("run_id") or "")[:8]


def status_label(status: str | None) -> str:
    """Plain text: emoji do not render in every browser's data grid."""
    return status or "unknown"


STATUS_TEXT_COLORS = {
    "completed": "#2b8a3e",
    "failed": "#c92a2a",
    "waiting": "#e67700",
    "paused": "#e67700",
    "running": "#1c7ed6",
}


def status_colored(frame: Any, column: str = "status") -> Any:
    """A table with its status column coloured (a pandas Styler; the values stay plain text)."""
    return frame.style.map(
        lambda v: f"color: {STATUS_TEXT_COLORS.get(v, '#495057')}; font-weight: 600", subset=[column]
    )


def money(value: float | None, provenance: str | None = None) -> str:
    """A cost as text: never $0 for something unpriced."""
    if value is None:
        return "unpriced" if provenance == "unpriced" else "—"
    if value and abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def _zone() -> tzinfo:
    """The browser's time zone (``st.context.timezone``), else UTC."""
    try:
        name = st.context.timezone
        return ZoneInfo(name) if name else UTC
    except Exception:  # no browser (AppTest, bare mode) or a zone this system does not know
        return UTC


def zone_name() -> str:
    """The abbreviation of the zone times are shown in (UTC, CET, ...): table headers say it."""
    return datetime.now(_zone()).tzname() or "UTC"


def when(value: Any, milliseconds: bool = False, zone: bool = False) -> str:
    """A timestamp in the browser's time zone; ``zone`` appends its name (a lone value; a
    table names the zone in its header)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(_zone())
    text = (
        value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if milliseconds else value.strftime("%Y-%m-%d %H:%M:%S")
    )
    return f"{text} {value.tzname() or ''}".rstrip() if zone else text


def ago(value: Any) -> str:
    """How long ago, in words (``3 min ago``); empty when unknown."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        seconds = (datetime.now(UTC) - moment).total_seconds()
    except (TypeError, ValueError):
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.0f} {unit} ago"
    return "just now" if seconds >= 0 else ""


def failure_cell(run: dict[str, Any]) -> str:
    """``class: reason`` of a failed run for a table cell; empty otherwise (never None)."""
    reason = short(run.get("failure_reason"), 160)
    klass = run.get("failure_class")
    if klass and reason:
        return f"{klass}: {reason}"
    return klass or reason


def duration(start: Any, end: Any) -> str:
    try:
        a = datetime.fromisoformat(start) if isinstance(start, str) else start
        b = datetime.fromisoformat(end) if isinstance(end, str) else end
        seconds = (b - a).total_seconds()
    except (TypeError, ValueError):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def tokens(inp: int | None, out: int | None) -> str:
    if inp is None and out is None:
        return "—"
    return f"{inp or 0:,} in / {out or 0:,} out"


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, indent=1)


def long_text(value: Any, label: str = "value", limit: int = LONG, language: str | None = None) -> None:
    """Show a value as plain text, truncated in place; when cut, a popover holds all of it as
    a code block with a copy button. ``st.text`` on the page, not ``st.code``: a page's first
    code block loads Streamlit's syntax highlighter, about 300 ms of the browser's time per
    view even for one line, and a popover draws what it holds only when it is opened."""
    text = as_text(value)
    if len(text) <= limit:
        st.text(text)
        return
    st.text(text[:limit] + " …")
    with st.popover(f"Show all of {label} ({len(text):,} characters)"):
        st.code(text, language=language, wrap_lines=True)


def copy_button(text: str, label: str) -> None:
    """``text`` in a code block with a copy button, inside a popover (see :func:`long_text`)."""
    with st.popover(label, icon=":material/content_copy:"):
        st.code(text, language=None)


def cell(value: Any, width: int = 120) -> str:
    """A value for a table cell: JSON for structures, one line, truncated."""
    return short(
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str), width
    )


def empty_database_help() -> None:
    st.info(
        "No runs yet. Point Baton at your agents' folders:\n\n"
        "* set `BATON_WATCH` to a list of folders (separated by `:`) before `streamlit run dashboard`;\n"
        "* or load them once: `baton ingest PATH…`;\n"
        "* or keep loading as agents write: `baton watch PATH…`;\n"
        "* or add a folder on the **Ingest** page.",
        icon=":material/folder_open:",
    )


def open_run(run_id: str, checkpoint_id: str | None = None) -> None:
    params = {"run": run_id} | ({"checkpoint": checkpoint_id} if checkpoint_id else {})
    st.switch_page(PAGES["run"], query_params=params)


def selected_row(event: Any) -> int | None:
    """The position of the row selected in a ``st.dataframe(on_select="rerun")``."""
    try:
        rows = event.selection.rows
    except AttributeError:
        rows = (event or {}).get("selection", {}).get("rows", [])
    return rows[0] if rows else None


def show_error(what: str, exc: Exception) -> None:
    st.error(
        f"Could not load {what}: {exc.__class__.__name__}: {md_escape(short(exc, 300))}",
        icon=":material/error:",
    )


T = TypeVar("T")


def load_or_stop(what: str, load: Callable[[], T]) -> T:
    """``load()``, or stop the page with an info line (feature not available) or an error."""
    try:
        return load()
    except data.NotAvailable as exc:
        st.info(md_escape(short(exc, 300)), icon=":material/info:")  # may quote file data
    except Exception as exc:
        show_error(what, exc)
    st.stop()
    raise AssertionError("st.stop() returned")  # st.stop raises; this keeps type checkers honest


VERSION = "_data_version"


def _fragment_only_run() -> bool:
    """True when Streamlit reruns just a fragment (a timer tick), not the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@st.fragment(run_every=2)
def live_refresh() -> None:
    """Every 2 s: when the ingester has committed something since the page was drawn, rerun
    the page (filters, selections and the URL are kept; cached answers keyed by the old
    version are skipped). In a full run it only notes the version: a rerun there would
    swallow the click that started the run."""
    try:
        version = data.data_version()
    except Exception:
        return
    if not _fragment_only_run():
        st.session_state[VERSION] = version
    elif st.session_state.get(VERSION) not in (None, version):
        st.rerun(scope="app")

"""Baton's dashboard: the router. ``streamlit run dashboard`` runs this file.

On the first start the background watcher's catch-up scan loads the watched folders
(``BATON_WATCH``, or the bundled ``sample_runs/`` plus the frameworks' default folders).
"""

from __future__ import annotations

import contextlib

import streamlit as st

from dashboard import background, data
from dashboard.ui import PAGES, live_refresh, md_escape, short

st.set_page_config(page_title="Baton", page_icon="🎛️", layout="wide")


def skip_full_collection_after_runs() -> None:
    """Streamlit runs ``gc.collect(2)`` after every script run. With the caches of a 100k-run
    database in memory that full collection was a third of the server's CPU per page view and
    per live refresh; Python's own collector still runs by its thresholds. A user's
    ``runner.postScriptGC`` setting wins."""
    from streamlit import config

    if not config.is_manually_set("runner.postScriptGC"):
        config.set_option("runner.postScriptGC", False)


with contextlib.suppress(Exception):  # an internal Streamlit API: never worth a broken page
    skip_full_collection_after_runs()


def overview_alias() -> None:
    st.switch_page(PAGES["overview"])


pages = [
    st.Page(PAGES["overview"], title="Overview", icon=":material/dashboard:", url_path="home", default=True),
    st.Page(PAGES["runs"], title="Runs", icon=":material/table_rows:", url_path="runs"),
    st.Page(PAGES["run"], title="Run", icon=":material/account_tree:", url_path="run"),
    st.Page(PAGES["costs"], title="Costs", icon=":material/payments:", url_path="costs"),
    st.Page(PAGES["failures"], title="Failures", icon=":material/error:", url_path="failures"),
    st.Page(PAGES["ingest"], title="Ingest", icon=":material/folder_open:", url_path="ingest"),
    # /overview names the Overview too (the default page lives at /).
    st.Page(overview_alias, title="Overview", url_path="overview", visibility="hidden"),
]
navigation = st.navigation(pages)

try:
    background.start()
except Exception as exc:  # the pages still show what the database holds
    st.error(
        f"Could not start loading the agent folders: {exc.__class__.__name__}: {md_escape(short(exc, 300))}",
        icon=":material/error:",
    )
with contextlib.suppress(Exception):  # a database error: the page shows it itself
    data.begin_run()  # one data version for the whole run

with st.sidebar:
    st.caption("Baton · local inspector for AI-agent runs")
    live_refresh()

navigation.run()

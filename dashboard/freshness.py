"""The database the dashboard shows, and its data version: every cached answer's key.

The engine is ``st.cache_resource``, keyed by the database URL, so two databases never share
one. The data version (number of source files, when one was last written, and how many
background rollup rebuilds finished) changes as soon as the ingester commits; the router
reads it once per run (:func:`begin_run`) and every query of that run is keyed by it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import queries
from core.db import default_url, make_engine
from dashboard import rollup_refresh

_RUN_VERSION = "_baton_run_data_version"


def db_url() -> str:
    return default_url()


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """The engine of ``url``, by default BATON_DB_URL (or ~/.baton/baton.db); also used by
    the background watcher."""
    return engine(url or db_url())


def _read_version() -> tuple[int, str, int]:
    return (*queries.data_version(get_engine()), rollup_refresh.rebuilt())


def begin_run() -> None:
    """Read the data version once for this run of the page (the router calls this first in
    every full run): the run's queries are all keyed by it, and it is one query, not one
    per cached call."""
    st.session_state[_RUN_VERSION] = (db_url(), _read_version())


def data_version() -> tuple[int, str, int]:
    """Changes whenever the ingester commits anything (every write touches source_file).

    Within a full run started by the router: the version read at its start. Anywhere else
    (a fragment's timer tick, a script without the router, no Streamlit at all): read now.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None and not ctx.fragment_ids_this_run:
        noted = st.session_state.get(_RUN_VERSION)
        if noted is not None and noted[0] == db_url():
            return noted[1]
    return _read_version()


def key() -> tuple[str, Any]:
    """(database URL, data version): the first part of every cached answer's key."""
    return db_url(), data_version()

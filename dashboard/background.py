"""The background watcher the dashboard keeps running, and the folders it watches.

One watcher per process (``ingest.watcher.start_background``), started by the router on the
first run and kept by ``st.cache_resource``, keyed by the database URL and the folders, so
two databases never share one. Its catch-up scan loads the watched folders (the bundled
sample runs on a first start).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import streamlit as st

from dashboard import data
from ingest.watcher import default_watch_paths, start_background


def watch_paths() -> list[str]:
    """``BATON_WATCH``, or the bundled ``sample_runs/`` plus the frameworks' default folders;
    and the folders added on the Ingest page (kept in the database)."""
    paths = [str(p) for p in default_watch_paths()]
    try:
        added = data.watched_folders()
    except Exception:  # a database error: the page says so itself
        added = []
    return list(dict.fromkeys([*paths, *added]))


_started: list[dict[str, Any]] = []


@st.cache_resource(show_spinner="Loading the agent folders…")
def _start(url: str, paths: tuple[str, ...]) -> dict[str, Any]:
    """Start the background watcher once per database and folders (its catch-up scan loads
    the bundled sample runs on a first start)."""
    handle = start_background(list(paths), url)
    error = None
    if str(handle.store.engine.url) != str(data.get_engine(url).url):
        error = "a watcher for another database already runs in this process; restart the dashboard"
    started = {"handle": handle, "paths": list(paths), "error": error}
    _started.append(started)
    return started


def start() -> dict[str, Any]:
    """Make sure the folders are being loaded; cheap after the first call. When the folders
    changed (one added or removed on the Ingest page), the watcher restarts on the new list
    (its catch-up scan skips unchanged files by a stat each)."""
    paths = tuple(watch_paths())
    if _started and tuple(_started[-1]["paths"]) != paths:
        stop_watcher()
    return _start(data.db_url(), paths)


def stop_watcher() -> None:
    """Stop the watchers this process started and forget them (tests; a clean shutdown)."""
    for started in list(_started):
        started["handle"].stop(timeout=10)
    _started.clear()
    _start.clear()


def watcher_state() -> dict[str, Any]:
    """running, mode, folders [{path, mode}], caught_up, counters, last_error, warnings."""
    started = start()
    state = asdict(started["handle"].state())
    state["folders"] = [dict(f) for f in state["folders"]]
    state["last_error"] = started.get("error") or state["last_error"]
    return state

"""The background watcher the dashboard keeps running, and the folders it watches.

One watcher per process (``ingest.watcher.start_background``), started by the router on the
first run and kept by ``st.cache_resource``, keyed by the database URL and the folders, so
two databases never share one. Its catch-up scan loads the watched folders (the bundled
sample runs on a first start).

With ``BATON_OTLP_PORT`` set, the router also starts an OTLP/HTTP receiver on that loopback
port (``baton otlp`` in this process), writing to ``BATON_OTLP_SPOOL`` (default
``~/.baton/otlp``), and the watcher watches that spool folder too.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import data
from ingest.watcher import default_watch_paths, start_background


def watch_paths() -> list[str]:
    """``BATON_WATCH``, or the bundled ``sample_runs/`` plus the frameworks' default folders;
    the OTLP spool folder when the receiver is on, and the folders added on the Ingest page
    (kept in the database)."""
    paths = [str(p) for p in default_watch_paths()]
    otlp = otlp_settings()
    if otlp is not None and not isinstance(otlp, str):
        paths.append(str(otlp[1]))
    try:
        added = data.watched_folders()
    except Exception:  # a database error: the page says so itself
        added = []
    return list(dict.fromkeys([*paths, *added]))


def otlp_settings() -> tuple[int, Path] | str | None:
    """(port, spool folder) from ``BATON_OTLP_PORT`` / ``BATON_OTLP_SPOOL``; None when the
    receiver is off; a message when the port is not a port."""
    from ingest.otlp_receiver.spool import default_spool_dir

    raw = os.environ.get("BATON_OTLP_PORT", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= 65535:
        return f"BATON_OTLP_PORT={raw!r} is not a port number"
    spool = os.environ.get("BATON_OTLP_SPOOL", "").strip()
    return int(raw), (Path(spool).expanduser() if spool else default_spool_dir())


_receivers: list[dict[str, Any]] = []


@st.cache_resource(show_spinner=False)
def _start_receiver(port: int, spool: str) -> dict[str, Any]:
    """Start the OTLP receiver once per port and spool; a failure (the port taken, another
    receiver on the spool) is kept as the message the Ingest page shows."""
    from ingest.otlp_receiver.server import Receiver

    receiver = Receiver(Path(spool), "127.0.0.1", port)
    started: dict[str, Any] = {"receiver": None, "endpoint": receiver.endpoint, "spool": spool, "error": None}
    try:
        receiver.start()
    except Exception as exc:  # shown on the Ingest page; the rest of the dashboard works
        started["error"] = f"the OTLP receiver did not start: {exc}"
    else:
        started["receiver"] = receiver
        _receivers.append(started)
    return started


def start_receiver() -> dict[str, Any] | None:
    """Make sure the OTLP receiver runs if ``BATON_OTLP_PORT`` asks for it."""
    otlp = otlp_settings()
    if otlp is None:
        return None
    if isinstance(otlp, str):
        return {"receiver": None, "endpoint": None, "spool": None, "error": otlp}
    return _start_receiver(otlp[0], str(otlp[1]))


def receiver_state() -> dict[str, Any] | None:
    """endpoint, spool, error and the receiver's counts; None when it is off."""
    started = start_receiver()
    if started is None:
        return None
    receiver = started["receiver"]
    counts = receiver.stats.snapshot() if receiver is not None else {}
    return {"endpoint": started["endpoint"], "spool": started["spool"], "error": started["error"], **counts}


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
    """Make sure the folders are being loaded (and the OTLP receiver runs, before the
    watcher looks at its spool folder); cheap after the first call. When the folders
    changed (one added or removed on the Ingest page), the watcher restarts on the new list
    (its catch-up scan skips unchanged files by a stat each)."""
    start_receiver()
    paths = tuple(watch_paths())
    if _started and tuple(_started[-1]["paths"]) != paths:
        _stop_watchers()  # the receiver keeps running
    return _start(data.db_url(), paths)


def _stop_watchers() -> None:
    for started in list(_started):
        started["handle"].stop(timeout=10)
        # start_background made this watcher's engine: a stopped watcher's pooled connections
        # would otherwise stay open (a folder added or removed restarts it).
        started["handle"].store.engine.dispose()
    _started.clear()
    _start.clear()


def stop_watcher() -> None:
    """Stop the watchers and OTLP receivers this process started and forget them (tests; a
    clean shutdown)."""
    _stop_watchers()
    for receiver in list(_receivers):
        receiver["receiver"].stop()
    _receivers.clear()
    _start_receiver.clear()


def watcher_state() -> dict[str, Any]:
    """running, mode, folders [{path, mode}], caught_up, counters, last_error, warnings."""
    started = start()
    state = asdict(started["handle"].state())
    state["folders"] = [dict(f) for f in state["folders"]]
    state["last_error"] = started.get("error") or state["last_error"]
    return state

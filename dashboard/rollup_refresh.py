"""The per-run rollup rows (``core.rollup``) brought up to date for the dashboard's process.

A page view prices at most ``INLINE_RUNS`` changed runs itself (after one new file: that
file's runs); a larger backlog (a first start on 100k runs, an edited prices file) goes to
one background thread per database, and pages show partial figures with a note until it is
done. Complete refreshes are remembered per data version, so one version is checked once.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Engine

from core import rollup
from core.prices import PriceBook

INLINE_RUNS = 2000  # stale runs a page view prices itself; more go to a background thread
_done: dict[tuple[Any, ...], rollup.Refreshed] = {}  # complete refreshes, per data version and prices
_rebuilds: dict[str, threading.Thread] = {}
_rebuilt = [0]  # rebuilds finished in this process: part of the data version


def _rebuild(engine: Engine, book: PriceBook) -> None:
    try:
        while rollup.refresh(engine, book, limit=20 * INLINE_RUNS).remaining:
            pass
    finally:
        _rebuilt[0] += 1


def refresh(engine: Engine, url: str, version: Any, prices: str, book: PriceBook) -> rollup.Refreshed | None:
    """The rollup brought up to date for this data version (None: a background thread is
    still pricing a large backlog, the figures are partial until it is done)."""
    memo = (url, version, prices)
    if memo in _done:
        return _done[memo]
    running = _rebuilds.get(url)
    if running is not None and running.is_alive():
        return None
    done = rollup.refresh(engine, book, limit=INLINE_RUNS)
    if done.remaining:
        thread = threading.Thread(target=_rebuild, args=(engine, book), name="baton-rollup", daemon=True)
        _rebuilds[url] = thread
        thread.start()
        return None
    if len(_done) > 64:
        _done.clear()
    _done[memo] = done
    return done


def pricing_note(url: str) -> str | None:
    running = _rebuilds.get(url)
    if running is not None and running.is_alive():
        return (
            "Costs and failure classes are being computed for every run in the background "
            "(a first start, or edited prices); the figures fill in as they are."
        )
    return None


def rebuilt() -> int:
    """How many background rebuilds finished (a page reruns when one does)."""
    return _rebuilt[0]


def forget() -> None:
    """Forget the remembered refreshes (tests and benchmarks measure cold views)."""
    _done.clear()


def wait(timeout: float = 300) -> None:
    """Wait for the background rebuilds (tests)."""
    for thread in list(_rebuilds.values()):
        thread.join(timeout)

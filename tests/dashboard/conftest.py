"""Every dashboard test starts from empty Streamlit caches and no background watcher, and ends
with the engines the dashboard cached disposed: ``st.cache_resource.clear()`` only drops the
cached engine, so its pooled connections (PostgreSQL: one server process each) would stay
open until the engine is garbage-collected."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import background, data, freshness


@pytest.fixture(autouse=True)
def fresh_streamlit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Yields ``restart()``: stop the watcher, dispose the engines the dashboard made and
    forget every cache, as a restarted dashboard would start."""
    made: list[Engine] = []
    make_engine = freshness.make_engine

    def recorded(*args: object, **kwargs: object) -> Engine:
        engine = make_engine(*args, **kwargs)  # type: ignore[arg-type]
        made.append(engine)
        return engine

    def restart() -> None:
        background.stop_watcher()
        for engine in made:
            engine.dispose()  # before the cache drops it
        made.clear()
        data.clear_caches()
        st.cache_resource.clear()

    restart()
    monkeypatch.setattr(freshness, "make_engine", recorded)
    yield restart
    restart()

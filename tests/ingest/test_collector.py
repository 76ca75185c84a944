"""An ingest pass switches Python's cyclic garbage collector off while it runs (for speed)
and must hand it back as it found it: the dashboard's process lives on after the pass."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_collector_is_off_during_a_pass_and_on_after_it(store: Store, collector_restored: None) -> None:
    gc.enable()
    during: list[bool] = []
    summary = ingest_paths([SAMPLE_RUNS], store, on_outcome=lambda _: during.append(gc.isenabled()))
    assert summary.files_loaded > 0
    assert during and not any(during)
    assert gc.isenabled()
    assert not gc.get_freeze_count()  # the old heap is thawed again


def test_a_pass_leaves_a_disabled_collector_disabled(store: Store, collector_restored: None) -> None:
    gc.disable()
    ingest_paths([SAMPLE_RUNS], store)
    assert not gc.isenabled()


def test_a_pass_that_raises_still_gives_the_collector_back(store: Store, collector_restored: None) -> None:
    gc.enable()

    def fail(_: object) -> None:
        raise RuntimeError("a callback failed")

    with pytest.raises(RuntimeError, match="a callback failed"):
        ingest_paths([SAMPLE_RUNS], store, on_outcome=fail)
    assert gc.isenabled()
    assert not gc.get_freeze_count()

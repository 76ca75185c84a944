"""A folder added on the Ingest page is loaded, watched from then on (kept in the database:
a restarted dashboard still watches it), and can be removed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from core import queries, watched_folders
from core.db import make_engine
from tests.conftest import SAMPLE_RUNS
from tests.dashboard.test_pages import open_page, texts


def test_an_added_folder_is_watched_after_a_restart_and_can_be_removed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_streamlit: Callable[[], None]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("BATON_DB_URL", db_url)
    monkeypatch.setenv("BATON_WATCH", str(empty))
    extra = tmp_path / "more"
    shutil.copytree(SAMPLE_RUNS / "acf" / "v0.1.0" / "streams", extra)
    at = open_page("views/ingest.py")
    at.text_input[0].input(str(extra))
    at.button[0].click().run()
    assert not at.exception
    assert "Watched from now on, also after a restart." in texts(at)
    assert str(extra.resolve()) in {c.value for c in at.code}
    at.run()  # a rerun (a live refresh) keeps the confirmation
    assert "1 loaded" in texts(at)

    fresh_streamlit()  # a restart: a new watcher, caches empty
    at = open_page("views/ingest.py")
    watched = at.dataframe[0].value
    assert str(extra.resolve()) in set(watched["path"])  # the watcher watches it again
    engine = make_engine(db_url)
    assert watched_folders.list_folders(engine) == [str(extra.resolve())]
    at.button(key=f"remove_{extra.resolve()}").click().run()
    assert not at.exception
    assert watched_folders.list_folders(engine) == []
    assert str(extra.resolve()) not in set(at.dataframe[0].value["path"])
    assert any(Path(f["path"]).is_relative_to(extra) for f in queries.source_files(engine))  # kept
    engine.dispose()

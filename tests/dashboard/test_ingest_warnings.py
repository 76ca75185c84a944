"""The Ingest page shows the warnings of files that loaded, beside their bad lines."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.test_pages import open_page, sample_db, texts

__all__ = ["sample_db"]  # fixtures, used by name


def test_ingest_page_lists_the_warnings_of_files_that_loaded(sample_db: str) -> None:
    at = open_page("views/ingest.py")
    assert "Warnings (2)" in texts(at)
    (table,) = [frame.value for frame in at.dataframe if "warning" in frame.value.columns]
    assert [Path(p).parent.parent.name for p in table["file"]] == ["v0.1.0", "v0.3.0"]
    assert {Path(p).name for p in table["file"]} == {"non_uuid_task_id.json"}
    assert all("task_id 'release-notes' is not a UUIDv4" in text for text in table["warning"])
    assert not any(text.startswith("warning:") for text in table["warning"])

"""The folder walk (baton ingest, the watcher's catch-up) and the live watcher agree on which
files Baton reads."""

from __future__ import annotations

from pathlib import Path

from ingest.discover import is_candidate, walk_names

NAMES = [
    "#cp.json",
    "cp.json",
    "trace.JSONL",
    "traces.db",
    ".#cp.json",
    ".~lock.cp.json#",
    "cp.json~",
    "cp.json.swp",
    "cp.json.tmp",
    "traces.db-wal",
    "notes.txt",
    "4913",
]


def test_walk_and_watcher_pick_the_same_files(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / name).write_text("{}")
    walked = sorted(Path(p).name for p in walk_names([tmp_path]))
    assert walked == sorted(name for name in NAMES if is_candidate(tmp_path / name))
    assert walked == sorted(["#cp.json", "cp.json", "trace.JSONL", "traces.db"])

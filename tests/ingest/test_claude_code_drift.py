"""Claude Code keeps changing its transcripts: unknown line types and fields anywhere must
lose nothing Baton knows; a growing transcript is tailed (only its new lines are read), and a
response streamed across two reads counts once with its full usage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core import queries
from core.store import Store
from core.tables import Event, RunFragment
from ingest.loader import ingest_paths
from ingest.parsers.claude_code.paths import default_folders
from tests.conftest import SAMPLE_RUNS

SAMPLES = SAMPLE_RUNS / "claude_code"
KNOWN = (
    "status",
    "task",
    "agents",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
NEW_LINES = [
    {"type": "atis-latch", "sessionId": "{session}", "latched": True},
    {"type": "worktree-state", "sessionId": "{session}", "worktree": {"path": "/tmp/wt"}},
    {
        "type": "system",
        "subtype": "frame-link",
        "uuid": "drift-{n}",
        "sessionId": "{session}",
        "timestamp": "2026-05-14T09:00:00.000Z",
    },
    {"type": "brand-new-kind"},
]


def drifted(line: dict[str, Any]) -> dict[str, Any]:
    """The same line with new fields at the top, in the message and in its usage."""
    line = dict(line, futureField={"nested": [1, 2]}, reasoningEffort="high")
    message = line.get("message")
    if isinstance(message, dict):
        message = dict(message, container={"id": "c1"})
        if isinstance(message.get("usage"), dict):
            message["usage"] = dict(message["usage"], iterations=[{"x": 1}], speed="fast", new_counter=5)
        if isinstance(message.get("content"), list):
            message["content"] = [*message["content"], {"type": "server_block_v9", "data": "?"}]
        line["message"] = message
    return line


def write_drifted(source: Path, target: Path) -> int:
    added = 0
    for path in source.rglob("*.jsonl"):
        lines = [json.loads(t) for t in path.read_text().splitlines()]
        session = next((x["sessionId"] for x in lines if "sessionId" in x), "none")
        out: list[dict[str, Any]] = []
        for n, line in enumerate(lines):
            out.append(drifted(line))
            if n == 1:  # unknown lines in the middle of every file
                for extra in NEW_LINES:
                    out.append(
                        json.loads(json.dumps(extra).replace("{session}", session).replace("{n}", path.stem))
                    )
                    added += 1
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("".join(json.dumps(x) + "\n" for x in out))
    return added


def state(engine: Engine) -> dict[str, Any]:
    runs = {}
    for run in queries.list_runs(engine, framework="claude_code"):
        checkpoints = [(c["native_id"], c["summary"]) for c in queries.run_checkpoints(engine, run["id"])]
        runs[run["native_id"]] = ({k: run[k] for k in KNOWN}, sorted(checkpoints), run["failure_reason"])
    return runs


def test_unknown_types_and_fields_anywhere_lose_nothing_known(engine: Engine, tmp_path: Path) -> None:
    from core.db import make_engine

    added = write_drifted(SAMPLES, tmp_path / "drift")
    plain = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    ingest_paths([SAMPLES], Store(plain))
    summary = ingest_paths([tmp_path / "drift"], Store(engine))
    assert (summary.files_loaded, summary.files_failed) == (14, 0)
    assert state(engine) == state(plain)
    with engine.connect() as connection:
        kept = connection.execute(
            select(func.count()).select_from(Event).where(Event.kind == "custom")
        ).scalar()
    assert kept == added  # each unknown line kept raw, as an event of its session
    plain.dispose()


def test_a_growing_transcript_is_tailed_and_a_split_response_counts_its_full_usage(
    engine: Engine, tmp_path: Path
) -> None:
    source = SAMPLES / "projects/-home-dev-webapp/c0de0000-0000-4000-8000-000000000005.jsonl"
    lines = source.read_text().splitlines(keepends=True)
    live = tmp_path / "projects/-home-dev-webapp" / source.name
    live.parent.mkdir(parents=True)
    live.write_text("".join(lines[:3]))  # the prompt and the first two streamed lines (3 output tokens)
    store = Store(engine)
    ingest_paths([tmp_path], store)
    (run,) = queries.list_runs(engine, framework="claude_code")
    assert run["output_tokens"] == 3 and run["status"] == "unknown"
    with live.open("a") as handle:
        handle.write("".join(lines[3:]))
    ingest_paths([tmp_path], store)
    (run,) = queries.list_runs(engine, framework="claude_code")
    assert (run["output_tokens"], run["status"]) == (310, "completed")
    with engine.connect() as connection:
        fragments = connection.execute(select(func.count()).select_from(RunFragment)).scalar()
        calls = connection.execute(
            select(func.count()).select_from(Event).where(Event.kind == "llm_call")
        ).scalar()
    assert fragments == 2  # the first read and the new lines: not one whole re-read
    assert calls == 1


def test_a_new_prompt_in_new_lines_links_to_its_parent_checkpoint(engine: Engine, tmp_path: Path) -> None:
    source = SAMPLES / "projects/-home-dev-webapp/c0de0000-0000-4000-8000-000000000004.jsonl"
    lines = source.read_text().splitlines(keepends=True)
    live = tmp_path / source.name
    live.write_text("".join(lines[:2]))
    store = Store(engine)
    ingest_paths([tmp_path], store)
    live.write_text("".join(lines))
    ingest_paths([tmp_path], store)
    (run,) = queries.list_runs(engine, framework="claude_code")
    checkpoints = queries.run_checkpoints(engine, run["id"])
    assert len(checkpoints) == 4
    assert sum(cp["parent_id"] is None for cp in checkpoints) == 1


def test_default_folders_honour_claude_config_dir(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_folders()[0] == tmp_path / ".claude" / "projects"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path}/a,{tmp_path}/b")
    assert default_folders() == [tmp_path / "a/projects", tmp_path / "b/projects"]


def test_the_dashboard_watches_claude_projects_when_it_exists(monkeypatch: Any, tmp_path: Path) -> None:
    from ingest.watcher import default_watch_paths

    monkeypatch.delenv("BATON_WATCH", raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert tmp_path / "cfg/projects" not in default_watch_paths()
    shutil.copytree(SAMPLES / "projects", tmp_path / "cfg/projects")
    assert (tmp_path / "cfg/projects").resolve() in default_watch_paths()

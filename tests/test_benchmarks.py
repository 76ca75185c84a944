"""The benchmark scripts run, on a small scale, and print every figure they promise (the
figures themselves are for people to read: no speed is asserted here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

NUMBER = r"[\d,.]+"


def _run(*args: str) -> tuple[str, str]:
    """The script's standard output and error."""
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_the_ingest_benchmark_loads_every_file_and_prints_each_measure() -> None:
    out, _ = _run("bench/ingest.py", "--files", "300", "--repeat", "1")
    assert "cold ingest: loaded 300, failed 0, ignored 0" in out
    assert "re-ingest:   unchanged 300, loaded 0" in out
    for measure in (
        "cold ingest files/s",
        "cold ingest MB/s",
        "raw floor files/s",
        r"cold ingest / raw floor \(time\)",
        "unchanged re-ingest files/s",
        "cold ingest CPU us/file",
        r"read \+ parse only files/s",
        "store writes only files/s",
    ):
        assert re.search(rf"^\s*{measure}\s+{NUMBER}x?\b", out, re.MULTILINE), measure


@pytest.mark.timeout(300)
def test_the_watch_benchmark_measures_each_event_shape_and_a_burst() -> None:
    out, watcher_says = _run("bench/watch.py", "--per-kind", "5", "--burst", "300")
    for measure in (
        "in-place write, from close",
        "write .tmp + rename, from rename",
        "JSONL append, from close",
    ):
        assert re.search(
            rf"^{re.escape(measure)}\s+\d+\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s", out, re.MULTILINE
        ), measure
    assert re.search(rf"^burst of 300 files moved in\s+300\s+{NUMBER} files/s", out, re.MULTILINE)
    assert re.search(r"^stopped: \d+ loaded, 0 failed", watcher_says, re.MULTILINE)  # baton watch's own line


def test_the_startup_benchmark_prints_each_command_beside_the_bare_import() -> None:
    out, _ = _run("bench/startup.py", "--repeat", "1")
    for measure in (r"import sqlmodel", r"baton --help", r"baton runs --json \(empty db\)"):
        assert re.search(rf"^{measure}\s+{NUMBER} ms \({NUMBER}x\)\s+{NUMBER} ms", out, re.MULTILINE), measure
    assert "baton --help imports SQLAlchemy: no" in out


def test_the_otlp_files_benchmark_loads_every_span_and_prints_each_measure() -> None:
    out, _ = _run("bench/otlp_files.py", "--spans", "2000", "--per-trace", "50", "--repeat", "1")
    assert "cold ingest: loaded 8, failed 0, 40 runs, 2,000 events" in out
    for measure in (
        "cold ingest spans/s",
        r"floor \(orjson.loads\) spans/s",
        r"cold ingest / floor \(time\)",
    ):
        assert re.search(rf"^\s*{measure}\s+{NUMBER}x?\b", out, re.MULTILINE), measure


def test_the_sessions_benchmark_loads_a_claude_projects_tree_and_prints_each_measure() -> None:
    out, _ = _run("bench/sessions.py", "--size", "2", "--min-mb", "0.4", "--max-mb", "0.8")
    assert re.search(r"^cold ingest: loaded (\d+), failed 0", out, re.MULTILINE)
    loaded = re.search(r"^cold ingest: loaded (\d+)", out, re.MULTILINE).group(1)
    assert f"re-ingest:   unchanged {loaded}, loaded 0" in out
    for measure in (
        r"floor \(read \+ orjson.loads\) MB/s",
        "floor seconds",
        "cold ingest MB/s",
        "cold ingest seconds",
        r"cold ingest / floor \(time\)",
        r"floor \+ insert MB/s",
        r"cold ingest / floor \+ insert",
        "cold ingest CPU seconds",
        r"cold ingest / floor \(CPU\)",
        "unchanged re-ingest seconds",
        r"peak RSS MB \(any process\)",
    ):
        assert re.search(rf"^{measure}\s+{NUMBER}x?\b", out, re.MULTILINE), measure


def test_the_otlp_benchmark_sends_every_span_and_prints_each_measure() -> None:
    out, _ = _run("bench/otlp.py", "--spans", "2048", "--batch", "512", "--no-phoenix")
    assert "2,048 spans in 4 protobuf requests" in out
    assert re.search(rf"^baton otlp\s+{NUMBER}\s+(n/a|{NUMBER} s)\s", out, re.MULTILINE)
    assert "Arize Phoenix: skipped (--no-phoenix)" in out
    assert re.search(r"^target: every span queryable within 2 s of the last send; baton: ", out, re.MULTILINE)


def test_the_hostile_memory_benchmark_prints_each_shape_beside_its_floor() -> None:
    out, _ = _run("bench/hostile_memory.py", "--blob-mb", "1", "--line-mb", "0.5")
    assert re.search(
        rf"^baton ingest of an empty folder \(start-up, database\): {NUMBER} MB$", out, re.MULTILINE
    )
    for case in (r"single JSON document \(1 MB\)", r"single JSONL line \(0.5 MB\)"):
        assert re.search(
            rf"^{case}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+-?{NUMBER}\s+{NUMBER}x$", out, re.MULTILINE
        ), (
            case,
            out,
        )


def test_the_langgraph_benchmark_loads_the_database_and_prints_each_measure() -> None:
    out, _ = _run("bench/ingest_langgraph.py", "--threads", "3", "--checkpoints", "20", "--repeat", "1")
    assert "cold ingest: loaded 1, failed 0, checkpoints 60" in out
    assert "re-ingest:   unchanged 1, loaded 0" in out
    for measure in (
        "cold ingest checkpoints/s",
        r"floor checkpoints/s \(sqlite3 \+ msgpack\)",
        r"cold ingest / floor \(time\)",
        "unchanged re-ingest checkpoints/s",
    ):
        assert re.search(rf"^\s*{measure}\s+{NUMBER}x?\b", out, re.MULTILINE), measure


@pytest.mark.timeout(400)
@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is not installed")
def test_the_browser_benchmark_prints_each_view_the_live_refresh_and_the_peak_rss() -> None:
    pytest.importorskip("playwright.sync_api")
    out, _ = _run(
        "bench/dashboard_browser.py",
        "--runs",
        "300",
        "--repeat",
        "1",
        "--live-seconds",
        "3",
        "--only",
        "Overview,Runs,Costs by run,Failures",
    )
    for view in ("floor: one st.title", "Overview", "Runs", "Costs by run", "Failures"):
        assert re.search(
            rf"^{view}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s", out, re.M
        ), view
    assert re.search(rf"^idle Overview: {NUMBER} % of one core; with one new file/s: {NUMBER} %", out, re.M)
    assert re.search(rf"^server peak RSS: {NUMBER} MB", out, re.M)

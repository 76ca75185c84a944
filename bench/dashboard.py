"""Server-side time of the dashboard's Runs and Run pages on a big database.

* 100k synthetic runs (one checkpoint and one source file each) bulk-inserted with
  SQLAlchemy Core into a temp SQLite file: one Runs page rerun = the ``dashboard.data``
  calls the page makes (facets, the filtered page with its count and the page's costs,
  through the data version), with cold caches, over a mix of filters; and the whole page
  through Streamlit's AppTest.
* One run with 1,000 checkpoints and 10,000 events (4,000 of them priced model calls): the
  ``dashboard.data`` calls of the Run page's tabs (run with cost and failure analysis,
  checkpoints, lineage graph, checkpoint, diff, timeline page) and the whole page through
  AppTest (Lineage, Diff and Timeline tabs).

The data calls are the very functions the pages call, so the figures cannot drift from the
pages. Whole pages are measured two ways: a *rerun* (one AppTest, run again with every cache
cleared: what a user waits for on a running server after new data arrives or on a new view)
and a *first run* of a fresh AppTest, which adds Streamlit's own start-up work (it scans every
installed package for components); an empty page through AppTest shows that overhead alone.

Usage: python bench/dashboard.py [--runs 100000] [--repeat 10]
Targets: Runs <= 300 ms, Run <= 1 s (p95 of the server-side work).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import ids, run_search
from core.db import make_engine
from core.tables import Checkpoint, Event, Run, SourceFile

REPO = Path(__file__).resolve().parent.parent

STATUSES = ["completed"] * 6 + ["failed"] * 2 + ["running", "waiting", "paused", "unknown"]
FRAMEWORKS = ["acf", "loopengt", "harness", "techrevati"]
AGENTS = ["planner", "researcher", "writer", "editor", "coder", "analyst", "operator", "reviewer"]
REASONS = [
    "TimeoutError raised",
    "Rate limit reached for gpt-4o",
    "Tool search failed: connection refused",
    "context_length_exceeded",
    "Max steps (12) reached",
    "budget exceeded: 0.52 > 0.50",
]
START = datetime(2026, 1, 1, tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def fill_runs(engine, count: int) -> None:  # noqa: ANN001
    rng = random.Random(7)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for start in range(0, count, 5000):
            runs, checkpoints, files = [], [], []
            for n in range(start, min(count, start + 5000)):
                framework = FRAMEWORKS[n % 4]
                native = f"run-{n:06d}"
                run_id = ids.run_id(framework, native)
                status = rng.choice(STATUSES)
                started = START + timedelta(minutes=n * 3 + rng.randint(0, 2))
                agents = rng.sample(AGENTS, rng.randint(1, 3))
                runs.append(
                    {
                        "id": run_id,
                        "framework": framework,
                        "native_id": native,
                        "status": status,
                        "task": f"task {n}: {rng.choice(['summarize', 'triage', 'migrate', 'scan'])} {rng.random():.6f}",
                        "agents": agents,
                        "started_at": started,
                        "ended_at": started + timedelta(seconds=rng.randint(5, 900)),
                        "input_tokens": rng.randint(100, 90000),
                        "output_tokens": rng.randint(10, 9000),
                        "reported_cost_usd": round(rng.random(), 4) if rng.random() < 0.6 else None,
                        "failure_reason": rng.choice(REASONS) if status == "failed" else None,
                        "failure_signals": {"status": status},
                        "attributes": {},
                        "inferred": [],
                        "checkpoint_count": 1,
                        "event_count": 0,
                        "updated_at": now,
                    }
                )
                checkpoints.append(
                    {
                        "id": ids.checkpoint_id(run_id, "c0"),
                        "run_id": run_id,
                        "native_id": "c0",
                        "agent_id": agents[0],
                        "status": status,
                        "created_at": started,
                        "completed_steps": [],
                        "remaining_steps": [],
                        "summary": f"summary of run {n}",
                        "attributes": {},
                        "inferred": [],
                        "versioned": False,
                        "document": {"checkpoint_id": "c0", "task_id": native, "status": status},
                    }
                )
                files.append(
                    {
                        "path": f"/agents/{framework}/{native}.json",
                        "format": framework,
                        "framework": framework,
                        "size": 1000,
                        "mtime_ns": n,
                        "outcome": "loaded",
                        "line_count": 1,
                        "seen_at": now - timedelta(seconds=count - n),
                        "loaded_at": now,
                    }
                )
            connection.execute(Run.__table__.insert(), runs)
            connection.execute(Checkpoint.__table__.insert(), checkpoints)
            connection.execute(SourceFile.__table__.insert(), files)


def fill_big_run(engine, checkpoints: int = 1000, events: int = 10000) -> str:  # noqa: ANN001
    rng = random.Random(11)
    native = "big-run"
    run_id = ids.run_id("harness", native)
    started = START + timedelta(days=400)
    cps, evs = [], []
    previous = None
    for n in range(checkpoints):
        agent = AGENTS[(n // 200) % len(AGENTS)]
        cid = ids.checkpoint_id(run_id, f"cp-{n:04d}")
        parent = previous if n % 250 else None  # four restarts
        if n % 97 == 5 and n > 10:
            parent = ids.checkpoint_id(run_id, f"cp-{n - 7:04d}")  # forks
        status = "failed" if n == checkpoints - 1 else ("waiting" if n % 333 == 7 else "running")
        messages = [
            {"role": "user" if i % 2 else "assistant", "content": f"message {i} " * 8} for i in range(n % 40)
        ]
        cps.append(
            {
                "id": cid,
                "run_id": run_id,
                "native_id": f"cp-{n:04d}",
                "parent_id": parent,
                "agent_id": agent,
                "status": status,
                "step": n,
                "created_at": started + timedelta(seconds=n),
                "completed_steps": [f"step {i}" for i in range(n % 20)],
                "remaining_steps": [f"step {i}" for i in range(n % 20, 20)],
                "failure_reason": "Max steps (1000) reached" if status == "failed" else None,
                "summary": "big run",
                "attributes": {},
                "inferred": [],
                "versioned": False,
                "document": {
                    "run_id": native,
                    "agent_id": agent,
                    "step": n,
                    "task": "big run",
                    "memory": {"messages": messages},
                    "phase": "failed" if status == "failed" else "react",
                },
            }
        )
        previous = cid
    for n in range(events):
        kind = rng.choice(["step", "llm_call", "tool_call", "llm_call", "error" if n % 500 == 0 else "step"])
        evs.append(
            {
                "id": ids.event_id(run_id, f"ev-{n}", "bench", n),
                "run_id": run_id,
                "seq": n,
                "native_id": f"ev-{n}",
                "parent_native_id": f"ev-{n - n % 5}" if n % 5 else None,
                "kind": kind,
                "name": f"{kind} {n}",
                "at": started + timedelta(milliseconds=n * 100),
                "agent_id": AGENTS[n % 8],
                "model": "gpt-4o-mini" if kind == "llm_call" else None,
                "input_tokens": rng.randint(100, 4000) if kind == "llm_call" else None,
                "output_tokens": rng.randint(10, 400) if kind == "llm_call" else None,
                "error": "tool failed" if kind == "error" else None,
                "data": {"n": n},
            }
        )
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.insert(),
            [
                {
                    "id": run_id,
                    "framework": "harness",
                    "native_id": native,
                    "status": "failed",
                    "task": "big run",
                    "agents": AGENTS,
                    "started_at": started,
                    "ended_at": started + timedelta(seconds=events // 10),
                    "failure_reason": "Max steps (1000) reached",
                    "failure_signals": {"error_kind": "max_steps"},
                    "attributes": {},
                    "inferred": [],
                    "checkpoint_count": checkpoints,
                    "event_count": events,
                }
            ],
        )
        connection.execute(Checkpoint.__table__.insert(), cps)
        connection.execute(Event.__table__.insert(), evs)
    return run_id


def runs_page_calls(flt: run_search.RunFilter) -> None:
    """What one Runs page rerun asks ``dashboard.data`` for, caches cold."""
    from dashboard import data

    data.clear_caches()
    data.facets()
    data.search_runs(flt, "started_at", True, 0, 50)


def run_page_calls(run_id: str) -> None:
    """What the Run page asks ``dashboard.data`` for on its Lineage, Diff and Timeline tabs
    (one after the other), caches cold."""
    from dashboard import data

    data.clear_caches()
    run = data.run(run_id)
    assert run is not None and run["cost"] is not None
    cps = data.checkpoints(run_id)
    selected = cps[-1]["id"]
    data.lineage(run_id, selected)
    data.checkpoint(selected)
    data.diff(cps[-2]["id"], selected)
    data.events(run_id, (), False, 0, 200)


def _app(script: str | None) -> object:
    from streamlit.testing.v1 import AppTest

    if script is not None:
        return AppTest.from_string(script, default_timeout=120)
    return AppTest.from_file(str(REPO / "dashboard" / "streamlit_app.py"), default_timeout=120)


def _open(at: object, page: str | None, params: dict[str, str]) -> None:
    if page:
        at.switch_page(page)  # type: ignore[attr-defined]
    for key, value in params.items():
        at.query_params[key] = value  # type: ignore[attr-defined]


def _quiet() -> None:
    """No bare-mode warning for every cached call made outside a page (an AppTest run
    resets Streamlit's log level, hence again after each)."""
    import streamlit.logger

    streamlit.logger.set_log_level("error")
    from dashboard import data  # noqa: F401  (its cache decorators would warn on import)

    streamlit.logger.set_log_level("error")


def _run(at: object) -> float:
    started = time.perf_counter()
    at.run()  # type: ignore[attr-defined]
    elapsed = (time.perf_counter() - started) * 1000
    _quiet()
    assert not at.exception, [e.value for e in at.exception]  # type: ignore[attr-defined]
    return elapsed


def apptest_reruns(
    page: str | None, params: dict[str, str], repeat: int, script: str | None = None
) -> list[float]:
    """One AppTest opened once, then run again ``repeat`` times with every cache cleared."""
    from dashboard import data

    at = _app(script)
    _open(at, page, params)
    _run(at)
    times = []
    for _ in range(repeat):
        data.clear_caches()
        times.append(_run(at))
    return times


def apptest_first_runs(
    page: str | None, params: dict[str, str], repeat: int, script: str | None = None
) -> list[float]:
    """A fresh AppTest's first run, ``repeat`` times (after one uncounted warm-up)."""
    from dashboard import data

    times = []
    for attempt in range(repeat + 1):
        data.clear_caches()
        at = _app(script)
        _open(at, page, params)
        elapsed = _run(at)
        if attempt:
            times.append(elapsed)
    return times


EMPTY_PAGE = "import streamlit as st\nst.title('empty')\n"


def main() -> None:
    # Run as a script, this file's folder comes first on sys.path and this file, named like the
    # dashboard package, would shadow it for the AppTest runs below.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here]
    sys.modules.pop("dashboard", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    started = time.perf_counter()
    fill_runs(engine, args.runs)
    big = fill_big_run(engine)
    engine.dispose()
    print(
        f"database: {args.runs:,} runs + 1 run of 1,000 checkpoints / 10,000 events "
        f"({time.perf_counter() - started:.1f} s to fill) at {folder}"
    )
    # The data module and AppTest read the database and the folders to watch from here.
    os.environ["BATON_DB_URL"] = url
    os.environ["BATON_WATCH"] = tempfile.mkdtemp(prefix="baton-bench-empty-")
    _quiet()

    filters = {
        "no filter": run_search.RunFilter(),
        "status=failed": run_search.RunFilter(statuses=("failed",)),
        "framework+agent": run_search.RunFilter(frameworks=("harness",), agent="writer"),
        "text 'timeout'": run_search.RunFilter(text="timeout"),
        "cost 0.2-0.4 + dates": run_search.RunFilter(
            cost_min=0.2,
            cost_max=0.4,
            started_from=START + timedelta(days=30),
            started_to=START + timedelta(days=120),
        ),
    }
    rows = []
    all_runs = []
    runs_page_calls(run_search.RunFilter())  # a running server has its engine and imports
    for name, flt in filters.items():
        times = timed(lambda flt=flt: runs_page_calls(flt), args.repeat)
        all_runs += times
        rows.append((f"Runs page data calls, {name}", times, 300))
    rows.append(("Runs page data calls, all filters", all_runs, 300))
    reruns = max(5, args.repeat // 2)
    firsts = max(3, args.repeat // 3)
    rows.append(("Runs page, whole AppTest rerun", apptest_reruns("views/runs.py", {}, reruns), 300))
    rows.append(
        ("Runs page, fresh AppTest's first run", apptest_first_runs("views/runs.py", {}, firsts), None)
    )
    rows.append(
        ("Run page data calls (1k ckpts, 10k events)", timed(lambda: run_page_calls(big), args.repeat), 1000)
    )
    for tab in ("Lineage", "Diff", "Timeline"):
        params = {"run": big, "tab": tab}
        rows.append(
            (
                f"Run page, whole AppTest rerun, {tab} tab",
                apptest_reruns("views/run.py", params, reruns),
                1000,
            )
        )
    rows.append(
        (
            "Run page, fresh AppTest's first run, Timeline tab",
            apptest_first_runs("views/run.py", {"run": big, "tab": "Timeline"}, firsts),
            None,
        )
    )
    rows.append(
        ("Empty page, AppTest rerun (Streamlit alone)", apptest_reruns(None, {}, reruns, EMPTY_PAGE), None)
    )
    rows.append(
        (
            "Empty page, fresh AppTest's first run (Streamlit alone)",
            apptest_first_runs(None, {}, firsts, EMPTY_PAGE),
            None,
        )
    )

    print(f"\n{'measure':<58} {'p50 ms':>8} {'p95 ms':>8} {'target ms':>10}  ok")
    for name, times, target in rows:
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        goal = f"<= {target}" if target else "-"
        verdict = ("yes" if p95 <= target else "NO") if target else ""
        print(f"{name:<58} {p50:>8.1f} {p95:>8.1f} {goal:>10}  {verdict}")


if __name__ == "__main__":
    main()

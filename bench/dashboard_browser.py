"""Every dashboard page in a real browser on a database of 100,000 runs.

Starts ``streamlit run dashboard`` on the ``bench/dashboard.py`` data (100k runs, and one run
of 1,000 checkpoints and 10,000 events), drives Debian's chromium through Playwright (never a
downloaded browser) and prints, per page view:

* the browser's wall time from navigation to the app's script state ``notRunning``;
* the server process's CPU time for that view (user + system, from /proc);

* the browser's wall time of a rerun in place (Streamlit's "r" key: what a click on a filter,
  a tab or a checkpoint costs, the front end already loaded), after one uncounted rerun;

each as p50/max of ``--repeat`` visits after one uncounted first visit (which builds what the
server keeps between views), beside the same figures for a floor: a Streamlit page holding
one title, served and visited the same way in the same run (what loading Streamlit's front
end in this browser on this machine costs before Baton draws anything). Then the server's CPU while one Overview tab sits idle, and while
one new checkpoint file per second arrives in a watched folder, and the server's peak RSS.

Usage: python bench/dashboard_browser.py [--runs 100000] [--repeat 5] [--db PATH]
(``--db`` keeps the filled database between invocations: filled only when missing, and
measured on a copy.)
Targets: server CPU per view p50 <= 300 ms, browser wall p50 <= 1 s, live refresh with one
file/s <= 15 % of one core on an idle Overview, server peak RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IDLE_JS = (
    "() => { const app = document.querySelector('[data-testid=stApp]');"
    " return app && app.dataset.testScriptState === 'notRunning'"
    " && document.querySelector('[data-testid=stMain] [data-testid=stHeading]') !== null"
    " && document.querySelector('[data-testid=stSkeleton]') === null; }"
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_CPU_MS, TARGET_WALL_MS, TARGET_LIVE, TARGET_RSS_MB = 300, 1000, 15.0, 500


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fill(db: Path, runs: int) -> str:
    """The bench/dashboard.py data in ``db`` (filled once); returns the big run's id."""
    sys.path.insert(0, str(REPO))
    from bench.dashboard import fill_big_run, fill_runs
    from core import ids
    from core.db import make_engine

    big = ids.run_id("harness", "big-run")
    if db.exists():
        return big
    started = time.perf_counter()
    partial = db.with_suffix(".filling")
    engine = make_engine(f"sqlite:///{partial}")
    fill_runs(engine, runs)
    fill_big_run(engine)
    engine.dispose()
    partial.rename(db)
    print(f"filled {runs:,} runs + the big run in {time.perf_counter() - started:.1f} s: {db}")
    return big


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    repo: Path, db: Path, watched: Path, log: Path, app: str = "dashboard"
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {
        "BATON_DB_URL": f"sqlite:///{db}",
        "BATON_WATCH": str(watched),
        "PYTHONPATH": str(repo),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        app,
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    process = subprocess.Popen(command, cwd=repo, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(log.read_text()[-3000:])
        time.sleep(0.25)


def visit(page: object, url: str, pid: int) -> tuple[float, float]:
    """(browser wall ms, server CPU ms) of one navigation to ``url``."""
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_function(IDLE_JS, timeout=120_000, polling=20)  # type: ignore[attr-defined]
    wall = (time.perf_counter() - started) * 1000
    page.wait_for_timeout(150)  # type: ignore[attr-defined]  # work the server finishes after the last message
    if page.locator('[data-testid="stException"]').count():  # type: ignore[attr-defined]
        print(f"  {url}: the page shows an exception", file=sys.stderr)
    return wall, (cpu_seconds(pid) - cpu) * 1000


RERUN_WATCH_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__batonRerun = undefined;
  window.__batonRunningSeen = undefined;
  let running = false;
  const started = performance.now();
  const observer = new MutationObserver((records) => {
    // A fast rerun can go running -> notRunning within one task: the records keep both.
    if (records.some((r) => r.oldValue === 'running')) running = true;
    const state = app.dataset.testScriptState;
    if (state === 'running') running = true;
    if (running && window.__batonRunningSeen === undefined) window.__batonRunningSeen = performance.now() - started;
    if (running && state === 'notRunning') {
      observer.disconnect();
      window.__batonRerun = performance.now() - started;
    }
  });
  observer.observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""


def rerun(page: object, pid: int) -> tuple[float, float]:
    """(browser wall ms, server CPU ms) of a rerun of the page in place (Streamlit's "r" key):
    what every click on a filter, tab or checkpoint costs, without loading the front end again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cpu = cpu_seconds(pid)
    for _ in range(3):  # a press the page ignored (now and then one is) is made again
        page.evaluate(RERUN_WATCH_JS)  # type: ignore[attr-defined]
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # type: ignore[attr-defined]  # "r" is ignored in a focused field
        page.keyboard.press("r")  # type: ignore[attr-defined]
        try:
            page.wait_for_function("() => window.__batonRunningSeen !== undefined", timeout=400, polling=10)  # type: ignore[attr-defined]
            break
        except PlaywrightTimeout:
            continue
    try:
        page.wait_for_function("() => window.__batonRerun !== undefined", timeout=5_000, polling=20)  # type: ignore[attr-defined]
    except PlaywrightTimeout:  # a script so fast that the page never showed it running (the floor's)
        return float("nan"), (cpu_seconds(pid) - cpu) * 1000
    wall = float(page.evaluate("() => window.__batonRerun"))  # type: ignore[attr-defined]
    page.wait_for_timeout(150)  # type: ignore[attr-defined]
    return wall, (cpu_seconds(pid) - cpu) * 1000


def _median_seen(values: list[float]) -> str:
    """The median of the reruns that were seen (a NaN is one that was not), or "-"."""
    seen = [v for v in values if v == v]
    return f"{statistics.median(seen):.0f}" if seen else "-"


def warm_up(page: object, base: str, limit_s: float = 900) -> int:
    """Open the Overview until the server says it has priced every run (a first start on a
    database it has never seen prices the backlog in the background): the views measured
    after are what a user sees on a running server."""
    deadline, visits = time.monotonic() + limit_s, 0
    while time.monotonic() < deadline:
        page.goto(f"{base}/overview")  # type: ignore[attr-defined]
        page.wait_for_function(IDLE_JS, timeout=300_000)  # type: ignore[attr-defined]
        visits += 1
        if not page.get_by_text("in the background", exact=False).count():  # type: ignore[attr-defined]
            return visits
        time.sleep(5)
    raise SystemExit("the server did not finish pricing the runs in time")


def acf_document(n: int) -> dict:
    return {
        "ac_version": "0.1.0",
        "checkpoint_id": str(uuid.UUID(int=n + 1)),
        "task_id": str(uuid.UUID(int=10**9 + n)),
        "agent_id": "live-agent",
        "emitted_at": "2026-11-23T10:00:00+00:00",
        "status": "partial",
        "task_summary": f"live refresh probe {n}",
        "completed_steps": [],
        "remaining_steps": ["probe"],
    }


def live_cpu(page: object, base: str, pid: int, watched: Path, seconds: float) -> tuple[float, float]:
    """Server CPU share (% of one core) with an Overview tab open: idle, then one file/s."""
    page.goto(f"{base}/overview")  # type: ignore[attr-defined]
    page.wait_for_function(IDLE_JS, timeout=120_000)  # type: ignore[attr-defined]
    time.sleep(3)
    cpu, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    idle = (cpu_seconds(pid) - cpu) / (time.monotonic() - started) * 100
    cpu, started = cpu_seconds(pid), time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        temporary = watched / f"probe-{n}.json.tmp"
        temporary.write_text(json.dumps(acf_document(n)))
        temporary.rename(watched / f"probe-{n}.json")
        n += 1
        time.sleep(max(0.0, started + n - time.monotonic()))
    busy = (cpu_seconds(pid) - cpu) / (time.monotonic() - started) * 100
    return idle, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument(
        "--only", default="", help="view names to measure, separated by ';' (or ',' when no name has one)"
    )
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the checkout whose dashboard is measured (a baseline)"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="baton-browser-bench-"))
    template = args.db or work / "filled.db"
    big = fill(template, args.runs)
    db = work / "bench.db"  # a copy: the server migrates it and the live test writes to it
    shutil.copy(template, db)
    watched = work / "watched"
    watched.mkdir()
    process, base = start_server(args.repo.resolve(), db, watched, work / "streamlit.log")
    views = {
        "Overview": "/overview",
        "Runs": "/runs",
        "Runs, status=failed": "/runs?status=failed",
        "Runs, framework+agent": "/runs?framework=harness&agent=writer",
        "Runs, search 'timeout'": "/runs?q=timeout",
        "Runs, sorted by cost": "/runs?sort=cost",
        "Runs, page 400": "/runs?page=400",
        "Run, Lineage": f"/run?run={big}&tab=Lineage",
        "Run, Diff": f"/run?run={big}&tab=Diff",
        "Run, Timeline": f"/run?run={big}&tab=Timeline",
        "Run, Resume": f"/run?run={big}&tab=Resume",
        "Costs by model": "/costs?by=model",
        "Costs by agent": "/costs?by=agent",
        "Costs by framework": "/costs?by=framework",
        "Costs by day": "/costs?by=day",
        "Costs by run": "/costs?by=run",
        "Failures": "/failures",
        "Ingest": "/ingest",
    }
    if args.only:
        wanted = {name.strip() for name in args.only.split(";" if ";" in args.only else ",")}
        views = {k: v for k, v in views.items() if k in wanted}
    rows = []
    floor_app = work / "floor_app.py"
    floor_app.write_text('import streamlit as st\n\nst.title("Floor")\n')
    floor_process, floor_base = start_server(
        args.repo.resolve(), db, watched, work / "floor.log", str(floor_app)
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"),
                headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            warm = warm_up(page, base)
            print(
                f"first start: costs and failure classes of every run ready after "
                f"{time.perf_counter() - started:.0f} s ({warm} Overview visits)",
                file=sys.stderr,
            )
            floor_first = visit(page, floor_base + "/", floor_process.pid)
            floor = [visit(page, floor_base + "/", floor_process.pid) for _ in range(args.repeat)]
            floor_reruns = [rerun(page, floor_process.pid)[0] for _ in range(args.repeat + 1)][1:]
            rows.append(
                (
                    "floor: one st.title",
                    floor_first,
                    [m[0] for m in floor],
                    [m[1] for m in floor],
                    floor_reruns,
                )
            )
            floor_process.terminate()
            for name, path in views.items():
                first = visit(page, base + path, process.pid)
                measured = [visit(page, base + path, process.pid) for _ in range(args.repeat)]
                # The first rerun after a navigation took about 2 s on the pages with charts, the
                # next ones 0.1-0.2 s (work the page still does after its script state says
                # notRunning): not counted, as the first visit is not.
                reruns = [rerun(page, process.pid)[0] for _ in range(args.repeat + 1)][1:]
                rows.append((name, first, [m[0] for m in measured], [m[1] for m in measured], reruns))
                print(f"  measured {name}", file=sys.stderr)
            idle, busy = live_cpu(page, base, process.pid, watched, args.live_seconds)
            browser.close()
        rss = peak_rss_mb(process.pid)
    finally:
        floor_process.terminate()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"\n{args.runs:,} runs; server CPU and browser wall per view, p50/max of {args.repeat} (ms)")
    header = f"{'view':<26} {'first wall':>10} {'first cpu':>9} {'wall p50':>9} {'max':>6}"
    print(
        header
        + f" {'cpu p50':>8} {'max':>6} {'wall/floor':>10} {'rerun p50':>9}"
        + f"  ok (wall <= {TARGET_WALL_MS}, cpu <= {TARGET_CPU_MS})"
    )
    floor_wall = statistics.median(rows[0][2])
    for name, first, walls, cpus, reruns in rows:
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        ok = "yes" if wall <= TARGET_WALL_MS and cpu <= TARGET_CPU_MS else "NO"
        print(
            f"{name:<26} {first[0]:>10.0f} {first[1]:>9.0f} {wall:>9.0f} {max(walls):>6.0f}"
            f" {cpu:>8.0f} {max(cpus):>6.0f} {wall / floor_wall:>9.2f}x {_median_seen(reruns):>9}  {ok}"
        )
    print(
        "wall: from navigation (the front end loaded again) to script state notRunning;"
        " rerun: the page rerun in place (a click on a filter, tab or checkpoint)"
    )
    print(
        f"\nidle Overview: {idle:.1f} % of one core; with one new file/s: {busy:.1f} %"
        f" (target <= {TARGET_LIVE:.0f} %) {'yes' if busy <= TARGET_LIVE else 'NO'}"
    )
    print(
        f"server peak RSS: {rss:.0f} MB (target <= {TARGET_RSS_MB}) {'yes' if rss <= TARGET_RSS_MB else 'NO'}"
    )
    print(f"log: {work / 'streamlit.log'}")


if __name__ == "__main__":
    main()

"""The dashboard in a real browser: ``streamlit run dashboard`` on a loopback port against the
sample runs, driven by Playwright with Debian's chromium (never a downloaded browser).

Flow: Runs (readable names) → filter to failed → open one → Back returns to the filtered list →
open it again → lineage graph (click a node to select it) → diff → timeline → deep link → back
button → every other page, /overview included. Screenshots at 1400x1000.
Screenshots go to tests/e2e/screenshots/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import lineage, queries
from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ECHARTS = "xpath=//canvas[not(ancestor::*[@data-testid='stDataFrame'])]"  # the grids draw on canvas too

if CHROMIUM is None and os.environ.get("BATON_REQUIRE_BROWSER"):
    # CI installs chromium and sets this: a missing browser must fail there, never skip.
    raise RuntimeError("BATON_REQUIRE_BROWSER is set but chromium is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder / 'baton.db'}"
    engine = make_engine(url)
    ingest_paths([SAMPLE_RUNS], Store(engine))
    runs = queries.list_runs(engine)
    checkpoints = {r["id"]: queries.run_checkpoints(engine, r["id"]) for r in runs}
    engine.dispose()
    port = free_port()
    live = folder / "live"  # a watched folder the test writes into
    live.mkdir()
    env = os.environ | {
        "BATON_DB_URL": url,
        "BATON_WATCH": os.pathsep.join([str(SAMPLE_RUNS), str(live)]),
        "BATON_OUTBOX": str(folder / "outbox"),
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboard",
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
    log = open(folder / "streamlit.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError((folder / "streamlit.log").read_text()[-3000:])
        time.sleep(0.25)
    yield {"base": base, "runs": runs, "checkpoints": checkpoints, "live": live, "outbox": folder / "outbox"}
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def settle(page: object, timeout: float = 30_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout)


def shot(page: object, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport to fit."""
    SCREENSHOTS.mkdir(exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=stMain]')?.scrollHeight || 1000")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), 900), 4000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def test_runs_filter_open_lineage_diff_deep_link_and_back(server: dict, browser: object) -> None:
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    failed = [r for r in server["runs"] if r["status"] == "failed"]

    # Runs, then filter to the failed ones through the Status widget.
    page.goto(f"{server['base']}/runs")
    settle(page)
    expect(page.get_by_text(f"{len(server['runs']):,} runs", exact=False)).to_be_visible()
    shot(page, "01_runs")
    page.locator('[data-testid="stMultiSelect"]').filter(has_text="Status").click()
    page.get_by_role("option", name=re.compile("failed")).click()
    page.keyboard.press("Escape")
    expect(page.get_by_text(f"{len(failed):,} runs ·", exact=False)).to_be_visible(timeout=20_000)
    settle(page)
    assert "status=failed" in page.url
    shot(page, "02_runs_failed")

    # Narrow to the failed run with the most checkpoints, then open it by selecting its row
    # (the grid is a canvas: click the row).
    wanted = max(failed, key=lambda r: (r["checkpoints"], r["id"]))
    search = page.get_by_label("Search task, summary, failure reason or id")
    search.fill(wanted["native_id"])
    search.press("Enter")
    expect(page.get_by_text("1 runs ·", exact=False)).to_be_visible(timeout=20_000)
    settle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_text_contents()
    assert wanted["name"] in cells and wanted["id"][:8] in cells  # a readable name and a short id
    filtered_url = page.url
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"/run\?run="), timeout=20_000)
    settle(page)
    run_id = re.search(r"run=([0-9a-f]+)", page.url).group(1)
    assert run_id == wanted["id"]

    # Back returns to the filtered list as it was; opening the run again works.
    page.go_back()
    page.wait_for_url(re.compile(r"/runs\?"), timeout=20_000)
    settle(page)
    assert page.url == filtered_url
    expect(page.get_by_text("1 runs ·", exact=False)).to_be_visible(timeout=20_000)
    assert (
        page.get_by_label("Search task, summary, failure reason or id").input_value() == wanted["native_id"]
    )
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"/run\?run="), timeout=20_000)
    settle(page)
    opened = wanted
    expect(
        page.locator('[data-testid="stHeading"]').filter(has_text=wanted["name"][:30]).first
    ).to_be_visible()

    # The lineage graph (an ECharts canvas): hovering a node names it, clicking selects it.
    chart = page.locator(ECHARTS).first
    expect(chart).to_be_visible(timeout=20_000)
    shot(page, "03_run_lineage")
    chosen = page.get_by_role("combobox", name="Checkpoint")
    before = chosen.input_value()
    cps = server["checkpoints"][run_id]
    if len(cps) >= 2:
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        area = chart.bounding_box()
        target = None
        for y in (0.5, 0.35, 0.65, 0.2, 0.8):
            for x in range(int(area["x"]) + 8, int(area["x"] + area["width"]) - 8, 12):
                page.mouse.move(x, area["y"] + area["height"] * y)
                page.wait_for_timeout(40)
                tip = page.locator("div:has-text('Click to select')").last
                if tip.count() and tip.is_visible():
                    text = tip.inner_text()
                    hints = (lineage.id_hint(c["native_id"]).strip("…") for c in cps)
                    native = next((hint for hint in hints if hint in text), None)
                    if native and native not in before:
                        target = (x, area["y"] + area["height"] * y, native)
                        break
            if target:
                break
        assert target, "no other checkpoint node found under the mouse"
        page.mouse.click(target[0], target[1])
        expect(chosen).to_have_value(re.compile(re.escape(target[2])), timeout=20_000)
        settle(page)
        assert "checkpoint=" in page.url and chosen.input_value() != before
        shot(page, "03b_lineage_node_clicked")

    # The diff between two checkpoints (when the run has two or more).
    page.get_by_role("tab", name="Diff").click()
    settle(page)
    if opened["checkpoints"] >= 2:
        expect(page.get_by_text("Added", exact=True)).to_be_visible()
        expect(page.get_by_text("Changed", exact=True)).to_be_visible()
    else:
        expect(page.get_by_text("nothing to compare", exact=False)).to_be_visible()
    shot(page, "04_run_diff")
    page.get_by_role("tab", name="Timeline").click()
    settle(page)
    if opened["events"]:
        expect(page.get_by_text(f"{opened['events']:,} events", exact=False)).to_be_visible()
    shot(page, "04b_run_timeline")
    page.get_by_role("tab", name="Diff").click()
    settle(page)
    first_run_url = page.url

    # A deep link to another run's first checkpoint opens exactly that checkpoint.
    def shape(run: dict) -> tuple[int, int, str]:
        """Runs whose forest forks or restarts first: the most telling graph to look at."""
        cps = server["checkpoints"][run["id"]]
        parents = [cp["parent_id"] for cp in cps]
        forks = sum(1 for p in set(parents) if p and parents.count(p) > 1)
        roots = sum(1 for p in parents if p is None)
        return (forks + max(0, roots - 1), len(cps), run["id"])

    other = max((r for r in server["runs"] if r["id"] != run_id), key=shape)
    target = server["checkpoints"][other["id"]][0]
    page.goto(f"{server['base']}/run?run={other['id']}&checkpoint={target['id']}")
    settle(page)
    chosen = page.get_by_role("combobox", name="Checkpoint")
    expect(chosen).to_have_value(re.compile(re.escape(target["native_id"][-12:])))
    expect(page.locator(ECHARTS).first).to_be_visible(timeout=20_000)
    shot(page, "05_deep_link")

    # Back returns to the run we came from.
    page.go_back()
    page.wait_for_url(first_run_url, timeout=20_000)
    settle(page)
    assert f"run={run_id}" in page.url
    expect(page.locator('[data-testid="stMetricValue"]').filter(has_text="failed").first).to_be_visible()
    shot(page, "06_back")

    # The other pages render in the browser too.
    for name, path in (
        ("overview", ""),
        ("overview_path", "overview"),
        ("costs", "costs"),
        ("costs_by_run", "costs?by=run"),
        ("failures", "failures"),
        ("ingest", "ingest"),
    ):
        page.goto(f"{server['base']}/{path}")
        settle(page)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        if name.startswith("overview"):
            expect(
                page.locator('[data-testid="stHeading"]').filter(has_text="Overview").first
            ).to_be_visible()
        shot(page, f"07_{name}")
    page.close()


def test_new_runs_show_up_within_seconds_and_filters_stay(server: dict, browser: object) -> None:
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server['base']}/runs?framework=acf&q=live-refresh")
    settle(page)
    expect(page.get_by_text("No run matches these filters.")).to_be_visible()
    document = {
        "ac_version": "0.1.0",
        "checkpoint_id": "0b8f4f7e-6a57-4c55-9d0e-2f4b8c1d9e01",
        "task_id": "5d9e0c7a-1b2c-4d3e-8f40-a1b2c3d4e5f6",
        "agent_id": "live-agent",
        "emitted_at": "2026-11-23T10:00:00+00:00",
        "status": "partial",
        "task_summary": "live-refresh probe",
        "completed_steps": [],
        "remaining_steps": ["probe"],
    }
    temporary = server["live"] / "probe.json.tmp"
    temporary.write_text(json.dumps(document))
    written = time.monotonic()
    temporary.rename(server["live"] / "probe.json")
    expect(page.get_by_text("1 runs ·", exact=False)).to_be_visible(timeout=15_000)
    seen_after = time.monotonic() - written
    assert "framework=acf" in page.url and "q=live-refresh" in page.url  # filters kept
    assert page.get_by_label("Search task, summary, failure reason or id").input_value() == "live-refresh"
    shot(page, "08_live_refresh")
    print(f"new run visible {seen_after:.1f} s after the file was written")
    page.close()


def test_the_resume_confirmation_survives_a_file_arriving(server: dict, browser: object) -> None:
    """Write an export from the Resume tab, then a new checkpoint of the same run arrives and
    the page refreshes: the confirmation and its path stay, and the preview is still the
    document that was written."""
    expect = sync_api.expect
    run = min(
        (r for r in server["runs"] if r["framework"] == "acf" and r["status"] == "failed"),
        key=lambda r: r["id"],
    )
    checkpoint = server["checkpoints"][run["id"]][-1]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server['base']}/run?run={run['id']}&checkpoint={checkpoint['id']}")
    settle(page)
    page.get_by_role("tab", name="Resume").click()
    settle(page)
    expect(page.get_by_text("Exporting checkpoint", exact=False)).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Write to outbox").click()
    confirmation = page.get_by_text("Written at", exact=False)
    expect(confirmation).to_be_visible(timeout=20_000)
    settle(page)
    (written,) = (server["outbox"] / "acf").iterdir()
    document = json.loads(written.read_text())
    shot(page, "09_resume_written")

    checkpoints = page.locator('[data-testid="stMetric"]').filter(has_text="Checkpoints")
    expect(checkpoints).to_contain_text(f"{run['checkpoints']:,}")
    arriving = {
        "ac_version": "0.1.0",
        "checkpoint_id": str(uuid.uuid4()),
        "task_id": run["native_id"],
        "agent_id": "late-agent",
        "emitted_at": "2026-11-23T11:00:00+00:00",
        "status": "partial",
        "task_summary": "a checkpoint that arrives after the export",
        "parent_checkpoint_id": checkpoint["native_id"],
    }
    (server["live"] / "arriving.json").write_text(json.dumps(arriving))
    # The live refresh reruns the page: the run's checkpoint count goes up by one.
    expect(checkpoints).to_contain_text(f"{run['checkpoints'] + 1:,}", timeout=20_000)
    settle(page)
    expect(confirmation).to_be_visible()
    expect(confirmation).to_contain_text("(the document shown below)")
    expect(page.get_by_text(str(written), exact=True).first).to_be_visible()
    expect(page.locator('[data-testid="stJson"]').first).to_contain_text(document["checkpoint_id"])
    shot(page, "10_resume_after_refresh")
    page.close()

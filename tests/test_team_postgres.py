"""Teams: one PostgreSQL, several machines (the README's "Teams" section, end to end).

Two `baton watch` processes (two machines, each with its own folder) and a `baton ingest`
(a third machine's folder, and one of the watched folders again: the same files written by
two processes at once) write one database while agents keep adding files in bursts (whole
folders moved in, `.tmp` + rename, JSON Lines appends). Readers query throughout: `core`
in this process, `baton runs --json` and `baton costs --json` in subprocesses, and every
dashboard page through AppTest (its own watcher a fourth writer). No process may print an
error, and the end state must equal a clean ingest of the same files into a fresh database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from core import queries
from core.annotate import annotate_runs
from core.db import make_engine
from core.store import Store
from ingest import watcher as watcher_module
from ingest.loader import ingest_paths
from ingest.reading import read_file
from tests.conftest import PG_URL, REPO, SAMPLE_RUNS, _reset_postgres
from tests.dashboard.conftest import fresh_streamlit  # noqa: F401 (a fixture)
from tests.dashboard.test_pages import PAGES, open_page
from tests.helpers import copy_tree, database_state, fresh_postgres_database
from tests.ingest.test_watcher import TRACE, acf_doc, wait_for

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="BATON_TEST_PG_URL is not set: the team test needs a real PostgreSQL (CI sets it)"
)

BURSTS = 10  # at least; more while the readers have not yet seen enough (a loaded machine)
MAX_BURSTS = 40
BURST_PAUSE_S = 1.0
GENERATED_PER_BURST = 60
WATCHING = re.compile(r"watching \S.* \((inotify|polling)\)")
STOPPED = re.compile(r"stopped: \d+ loaded, \d+ failed, \d+ deleted")


def _baton(*args: str, stdout: int | IO[str] = subprocess.PIPE, stderr: int | IO[str] = subprocess.PIPE):
    """`python -m baton ARGS` as a machine of the team runs it: the URL in BATON_DB_URL."""
    env = os.environ | {"BATON_DB_URL": PG_URL or "", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "baton", *args], cwd=REPO, env=env, stdout=stdout, stderr=stderr, text=True
    )


class Machine:
    """One machine's agent folder, and the agents that keep adding files to it."""

    def __init__(self, root: Path, letter: str, samples: list[Path]) -> None:
        self.folder = root / f"machine-{letter}" / "agents"
        self.staging = root / f"machine-{letter}" / "staging"  # the same filesystem: renames
        self.folder.mkdir(parents=True)
        self.staging.mkdir()
        self.letter = letter
        self.samples = samples
        self.trace_lines = TRACE.read_bytes().splitlines(keepends=True)

    def _generated(self, burst: int) -> None:
        """A burst of ACF checkpoints, ten to a task, each written to `.tmp` and renamed."""
        machine = ord(self.letter)
        for n in range(GENERATED_PER_BURST):
            number = (machine << 16) + burst * GENERATED_PER_BURST + n
            task = f"{machine:08x}-{burst:04x}-4bbb-8ccc-{n // 10:012x}"
            target = self.folder / f"gen-{burst}" / f"task-{n // 10}" / f"{number:08x}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(target.name + ".tmp")
            temp.write_text(json.dumps(acf_doc(number, status="partial", task=task), indent=2))
            os.replace(temp, target)

    def _append(self, burst: int) -> None:
        """Five more lines of a trace that an agent keeps appending to, the last one half
        written for a moment."""
        path = self.folder / "runs" / TRACE.name
        path.parent.mkdir(exist_ok=True)
        lines = self.trace_lines[burst * 5 : burst * 5 + 5]
        if not lines:  # the agent is done with it
            return
        with open(path, "ab") as handle:
            handle.write(b"".join(lines[:-1]) + lines[-1][:20])
            handle.flush()
            time.sleep(0.05)
            handle.write(lines[-1][20:])

    def feed(self, errors: list[str], enough: threading.Event) -> None:
        try:
            for burst in range(MAX_BURSTS):
                if burst >= BURSTS and enough.is_set():
                    break
                if burst < len(self.samples):  # a whole folder copied elsewhere, then moved in
                    sample = self.samples[burst]
                    staged = copy_tree(sample, self.staging / f"{burst}-{sample.name}")
                    os.rename(staged, self.folder / staged.name)
                self._generated(burst)
                self._append(burst)
                time.sleep(BURST_PAUSE_S)
        except Exception as exc:  # the test fails on it, with the reason
            errors.append(f"feeding {self.folder}: {exc!r}")


def _loop(stop: threading.Event, errors: list[str], what: str, step: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            try:
                step()
            except Exception as exc:
                errors.append(f"{what}: {exc.__class__.__name__}: {exc}")

    thread = threading.Thread(target=run, name=what)
    thread.start()
    return thread


@needs_postgres
@pytest.mark.timeout(240)
def test_two_watchers_an_ingest_readers_and_the_dashboard_share_one_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PG_URL
    _reset_postgres(PG_URL)  # empty: the three processes also race to create the schema
    name = PG_URL.rsplit("/", 1)[1].split("?")[0]
    clean_url = fresh_postgres_database(PG_URL, f"{name}_clean")
    a = Machine(tmp_path, "a", [SAMPLE_RUNS / "acf", SAMPLE_RUNS / "loopengt", SAMPLE_RUNS / "broken"])
    b = Machine(tmp_path, "b", [SAMPLE_RUNS / "harness", SAMPLE_RUNS / "techrevati", SAMPLE_RUNS / "acf"])
    c = Machine(tmp_path, "c", [])
    copy_tree(SAMPLE_RUNS, c.folder / "sample_runs")
    c._generated(0)

    logs = tmp_path / "logs"
    logs.mkdir()
    opened: list[IO[str]] = []

    def log(name: str) -> IO[str]:
        opened.append(open(logs / name, "w+"))  # noqa: SIM115 (closed in the finally below)
        return opened[-1]

    watchers = {
        m.letter: _baton(
            "watch", str(m.folder), stdout=log(f"watch-{m.letter}.out"), stderr=log(f"watch-{m.letter}.err")
        )
        for m in (a, b)
    }
    errors: list[str] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        wait_for(
            lambda: all("watching" in (logs / f"watch-{x}.err").read_text() for x in watchers), timeout=30
        )

        ingests: list[tuple[int, str, str]] = []

        def ingest() -> None:
            process = _baton("ingest", str(c.folder), str(a.folder), "--json")
            out, err = process.communicate(timeout=120)
            ingests.append((process.returncode, out, err))

        run_counts: list[int] = []
        engine = make_engine(PG_URL)

        def read_core() -> None:
            runs = queries.list_runs(engine)
            run_counts.append(len(runs))
            queries.file_outcome_counts(engine)
            queries.failed_files(engine)
            annotate_runs(engine, runs[:50])
            if runs:
                queries.run_checkpoints(engine, runs[0]["id"], with_documents=True)
                queries.event_counts(engine, runs[-1]["id"])

        def read_cli() -> None:
            for command in (("runs", "--json"), ("costs", "--json")):
                process = _baton(*command)
                out, err = process.communicate(timeout=60)
                if process.returncode != 0 or err:
                    errors.append(f"baton {' '.join(command)}: exit {process.returncode}: {err}")
                json.loads(out)

        threads.append(_loop(stop, errors, "baton ingest", ingest))
        threads.append(_loop(stop, errors, "core reader", read_core))
        threads.append(_loop(stop, errors, "CLI reader", read_cli))
        # The dashboard on machine C: its watcher loads C's folder (a fourth writer, beside
        # the ingest of the same folder) on the first page's run.
        monkeypatch.setenv("BATON_DB_URL", PG_URL)
        monkeypatch.setenv("BATON_WATCH", str(c.folder))
        open_page("views/overview.py")
        enough = threading.Event()  # the feeders go on until every reader has seen some
        feeders = [threading.Thread(target=m.feed, args=(errors, enough)) for m in (a, b)]
        for feeder in feeders:
            feeder.start()
        rounds = 0  # every page, while files keep arriving
        while all(f.is_alive() for f in feeders):
            runs = queries.list_runs(engine, limit=1)
            for page in PAGES:
                open_page(page, **({"run": runs[0]["id"]} if runs and page == "views/run.py" else {}))
            rounds += 1
            if rounds >= 2 and len(ingests) >= 2:
                enough.set()
        for feeder in feeders:
            feeder.join()
        stop.set()
        for thread in threads:
            thread.join()

        # The same files, once, into a fresh database; the team's must end the same.
        clean_engine = make_engine(clean_url)
        ingest_paths([a.folder.resolve(), b.folder.resolve(), c.folder.resolve()], Store(clean_engine))
        expected = database_state(clean_engine)
        clean_engine.dispose()
        try:
            wait_for(lambda: database_state(engine) == expected, timeout=30)
        except pytest.fail.Exception:
            _explain(database_state(engine), expected)
            raise
        for page in PAGES:  # and the dashboard shows it
            at = open_page(page, **({"run": expected["runs"][0]["id"]} if page == "views/run.py" else {}))
            if page == "views/overview.py":
                assert {m.label: m.value for m in at.metric}["Runs"] == f"{len(expected['runs']):,}"
        dashboard = watcher_module._background
        assert dashboard is not None and dashboard.state().last_error is None
        engine.dispose()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for process in watchers.values():
            process.send_signal(signal.SIGTERM)
        for process in watchers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in opened:
            handle.close()

    print(
        "STATS",
        len(ingests),
        rounds,
        len(run_counts),
        run_counts[-1],
        len(expected["files"]),
        sum(len(e) for e in expected["events"].values()),
    )
    assert errors == []
    for letter, process in watchers.items():
        err = (logs / f"watch-{letter}.err").read_text()
        assert process.returncode == 0, err
        printed = err.splitlines()
        assert all(WATCHING.fullmatch(line) or STOPPED.fullmatch(line) for line in printed), err
        assert len(printed) == 2, err
    failed = {f["path"] for f in expected["files"] if f["outcome"] == "failed"}
    with_bad_lines = {f["path"] for f in expected["files"] if f.get("bad_line_count")}
    with_warnings = {f["path"] for f in expected["files"] if f["outcome"] == "loaded" and f.get("warnings")}
    for code, out, err in ingests:
        summary = json.loads(out)
        assert code == (1 if summary["files_failed"] else 0), err
        for line in err.splitlines():
            # Only files the clean ingest also failed, or also found bad lines or warnings in, are named.
            kind, _, rest = line.partition(": ")
            named = rest.split(":", 1)[0]
            assert (
                (kind == "failed" and named in failed)
                or (kind == "bad line" and named in with_bad_lines)
                or (kind == "warning" and named in with_warnings)
            ), err
    assert len(run_counts) > 3 and run_counts == sorted(run_counts), "a reader saw runs disappear"
    assert rounds >= 2 and len(ingests) >= 2, (
        f"in {MAX_BURSTS} bursts: {rounds} page rounds, {len(ingests)} ingests"
    )


def _explain(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """Print the first differences, so a failure says what differs."""
    for part in expected:
        if found[part] != expected[part]:
            print(f"-- {part} differ")
            if isinstance(expected[part], list):
                missing = [x for x in expected[part] if x not in found[part]]
                extra = [x for x in found[part] if x not in expected[part]]
            else:
                missing = [(k, v) for k, v in expected[part].items() if found[part].get(k) != v]
                extra = [(k, v) for k, v in found[part].items() if expected[part].get(k) != v]
            print("only in the clean ingest:", missing[:3])
            print("only in the team's:", extra[:3])


def test_a_run_held_by_two_machines_files_is_the_same_whichever_arrived_first(
    db_url: str, tmp_path: Path
) -> None:
    """The same techrevati session summary in two machines' folders: one run, and the
    same run (which file it names included) whether one machine's file or the other's, or
    both in one pass, came first."""
    summary = SAMPLE_RUNS / "techrevati" / "v0.4.0" / "failures.analyst.summary.json"
    folders = []
    for letter in "ab":
        folder = tmp_path / f"machine-{letter}"
        folder.mkdir()
        shutil.copy(summary, folder / summary.name)
        folders.append(folder)
    if PG_URL and db_url == PG_URL:
        name = PG_URL.rsplit("/", 1)[1].split("?")[0]
        others = [fresh_postgres_database(PG_URL, f"{name}_{n}") for n in ("ba", "both")]
    else:
        others = [f"sqlite:///{tmp_path / n}.db" for n in ("ba", "both")]
    runs = []
    for url, passes in zip(
        [db_url, *others], [[folders[:1], folders[1:]], [folders[1:], folders[:1]], [folders]], strict=True
    ):
        engine = make_engine(url)
        for paths in passes:
            ingest_paths(paths, Store(engine))
        runs.append(queries.list_runs(engine))
        engine.dispose()
    assert len(runs[0]) == 1
    assert runs[1] == runs[0] and runs[2] == runs[0]


def test_two_writers_reading_the_same_new_lines_store_them_once(db_url: str, tmp_path: Path) -> None:
    """A watcher and a `baton ingest` of one folder both read the lines an agent just
    appended to its trace, from the same offset: whichever writes second must not add
    them again (harness trace lines have no ids of their own: they were stored twice)."""
    trace = next((SAMPLE_RUNS / "harness" / "v0.14.0" / "traces").glob("fail_budget--*.jsonl"))
    lines = trace.read_bytes().splitlines(keepends=True)
    folder = tmp_path / "agents"
    folder.mkdir()
    path = folder / trace.name
    path.write_bytes(b"".join(lines[: len(lines) // 2]))
    store = Store(make_engine(db_url))
    ingest_paths([folder], store)
    known = store.known_files([str(path)])[str(path)]
    with open(path, "ab") as handle:
        handle.write(b"".join(lines[len(lines) // 2 :]))
    first, second = read_file(path, known), read_file(path, known)  # both before either writes
    assert first is not None and second is not None and first.append and second.append
    store.write_batch([first])
    store.write_batch([second])
    found = database_state(store.engine)
    store.engine.dispose()
    clean = Store(make_engine(f"sqlite:///{tmp_path / 'clean.db'}"))
    ingest_paths([folder], clean)
    expected = database_state(clean.engine)
    clean.engine.dispose()
    assert [len(e) for e in found["events"].values()] == [len(e) for e in expected["events"].values()]
    assert found == expected

"""Run one fanned-out ingest of the sample runs in a fresh process and report, as JSON, the
summary and what the helper processes were (``python -m tests.ingest.fanout_probe URL MODE``).

A fresh process, because forking depends on the process having no other thread, which a
long pytest session cannot promise. MODE is ``plain``, ``with-thread`` (another thread runs
during the pass) or ``kill-helper`` (the first helper is killed once the pass is under way).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import orjson

from core.db import make_engine
from core.store import Store
from ingest.loader import ingest_paths

SAMPLE_RUNS = Path(__file__).resolve().parents[2] / "sample_runs"


def _children() -> list[int]:
    pids: list[int] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as handle:
                pids += [int(pid) for pid in handle.read().split()]
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return pids


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    store = Store(make_engine(url))
    own = _cmdline(os.getpid())
    helpers: dict[int, str] = {}
    killed: list[int] = []
    stop = threading.Event()
    if mode == "with-thread":
        threading.Thread(target=stop.wait, daemon=True).start()

    def progress(done: int, _total: int, _path: str) -> None:
        for pid in _children():
            # A spawned helper shows this process's command line until its exec: a later
            # look at it corrects "fork" (a forked helper never changes it).
            command = _cmdline(pid)
            if command and helpers.get(pid, "fork") == "fork":
                helpers[pid] = "fork" if command == own else command
        if mode == "kill-helper" and helpers and not killed and done >= 40:
            killed.append(min(helpers))
            os.kill(killed[0], signal.SIGKILL)

    summary = ingest_paths([SAMPLE_RUNS], store, progress=progress)
    stop.set()
    result = summary.as_dict()
    result.pop("seconds")
    print(
        orjson.dumps(
            {
                "summary": result,
                "failures": sorted([f["path"], f["error"]] for f in summary.failures),
                "warnings": sorted([w["path"], w["line"] or 0, w["error"]] for w in summary.warnings),
                "helpers": sorted(helpers.values()),
                "killed": killed,
                "children_after": _children(),
                "threads_after": [t.name for t in threading.enumerate() if t.name.startswith("baton")],
            }
        ).decode()
    )


if __name__ == "__main__":
    main()

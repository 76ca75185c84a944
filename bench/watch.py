"""Live-ingest latency and burst throughput of ``baton watch``.

Usage: ``python bench/watch.py [--per-kind 250] [--burst 10000] [--dir DIR] [--poll]``

Runs ``baton watch DIR --quiet`` as a separate process (as a user would) on an empty folder
and a fresh SQLite database, then, from this process:

* latency, from the moment the writer's ``close()`` (or ``rename()``) returned to the
  moment the record is queryable through ``core.queries`` (polled every millisecond or so):
  - in-place writes: new files written and closed (ACF and loopengt checkpoint documents),
  - renames: documents written to ``*.tmp`` and renamed into place,
  - JSONL appends: a loopengt trace line appended to one of 25 trace files;
* a burst: ``--burst`` ACF files prepared outside the folder and moved in as one folder;
  time until all of them are loaded (files/s).

Documents are real-shaped: copies of ``sample_runs`` files with new ids. Targets: p95 <= 150
ms for each latency; burst >= 5,000 files/s. Every figure depends on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core import ids, queries  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.errors import NotFound  # noqa: E402

SAMPLES = REPO / "sample_runs"
ACF = json.loads(next((SAMPLES / "acf" / "v0.1.0" / "checkpoints").rglob("*.json")).read_text())
LOOP_CP = json.loads(
    next((SAMPLES / "loopengt" / "v0.1.0" / ".loopengt" / "runs").glob("*/checkpoints/*.json")).read_text()
)
TRACE_LINE = json.loads(
    (SAMPLES / "loopengt" / "v0.1.0" / ".loopengt" / "runs" / "444a995107c3.trace.jsonl")
    .read_text()
    .splitlines()[3]
)
TARGET_P95_MS = 150.0
TARGET_BURST = 5000.0


def acf_doc(n: int) -> tuple[bytes, str]:
    """An ACF document and the checkpoint id ``core`` will know it by."""
    task = f"{n % 997:08x}-0000-4000-8000-{n:012x}"
    doc = dict(ACF, checkpoint_id=f"{n:08x}-1111-4111-8111-{n:012x}", task_id=task)
    doc.pop("parent_checkpoint_id", None)
    return json.dumps(doc, indent=2).encode(), ids.checkpoint_id(
        ids.run_id("acf", task), doc["checkpoint_id"]
    )


def loopengt_doc(n: int) -> tuple[bytes, str]:
    run, checkpoint = f"{n:012x}", f"c{n:011x}"
    doc = dict(LOOP_CP, run_id=run, checkpoint_id=checkpoint)
    return json.dumps(doc, indent=2).encode(), ids.checkpoint_id(ids.run_id("loopengt", run), checkpoint)


def wait_until(check: Callable[[], bool], timeout: float = 30.0, every: float = 0.0005) -> float:
    """Seconds on the monotonic clock when ``check`` first held (polled ``every`` seconds)."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise TimeoutError("the watcher did not load the record in time")
        time.sleep(every)
    return time.monotonic()


def checkpoint_visible(engine: object, checkpoint_id: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            queries.get_checkpoint(engine, checkpoint_id)  # type: ignore[arg-type]
            return True
        except NotFound:
            return False

    return check


def measure_writes(root: Path, engine: object, count: int, rename: bool) -> list[float]:
    latencies = []
    folder = root / ("renamed" if rename else "written")
    folder.mkdir()
    for n in range(count):
        serial = n + (1_000_000 if rename else 0)
        data, checkpoint = (acf_doc if n % 2 == 0 else loopengt_doc)(serial)
        target = folder / f"{serial}.json"
        if rename:
            temp = folder / f"{serial}.json.tmp"
            temp.write_bytes(data)
            os.replace(temp, target)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
        started = time.monotonic()
        latencies.append(wait_until(checkpoint_visible(engine, checkpoint)) - started)
    return latencies


def measure_appends(root: Path, engine: object, count: int, files: int = 25) -> list[float]:
    latencies = []
    folder = root / ".loopengt" / "runs"
    folder.mkdir(parents=True)
    for n in range(count):
        run = f"a{n % files:011x}"
        line = dict(TRACE_LINE, event_id=f"{n:016x}", run_id=run)
        with open(folder / f"{run}.trace.jsonl", "ab") as handle:
            handle.write(json.dumps(line).encode() + b"\n")
        started = time.monotonic()
        expected = n // files + 1
        run_id = ids.run_id("loopengt", run)
        latencies.append(
            wait_until(lambda r=run_id, e=expected: sum(queries.event_counts(engine, r).values()) == e)
            - started
        )
    return latencies


def measure_burst(root: Path, staging: Path, engine: object, count: int) -> float:
    folder = staging / "burst"
    for n in range(count):
        sub = folder / f"{n // 500:03d}"
        if n % 500 == 0:
            sub.mkdir(parents=True)
        (sub / f"{n}.json").write_bytes(acf_doc(2_000_000 + n)[0])
    before = queries.file_outcome_counts(engine).get("loaded", 0)  # type: ignore[arg-type]
    started = time.monotonic()
    os.rename(folder, root / "burst")
    done = wait_until(
        lambda: queries.file_outcome_counts(engine).get("loaded", 0) >= before + count,  # type: ignore[arg-type]
        timeout=300,
        every=0.02,  # a count over the growing table: polled gently, not to slow the watcher down
    )
    return count / (done - started)


def reference_ingest(staging: Path, count: int) -> float:
    """files/s of one ``ingest_paths`` pass over the same kind of files, on this machine now:
    the floor the burst is compared with (the watcher adds events, batching and a process)."""
    from core.store import Store
    from ingest.loader import ingest_paths

    folder = staging / "reference"
    for n in range(count):
        sub = folder / f"{n // 500:03d}"
        if n % 500 == 0:
            sub.mkdir(parents=True)
        (sub / f"{n}.json").write_bytes(acf_doc(3_000_000 + n)[0])
    engine = make_engine(f"sqlite:///{staging / 'reference.db'}")
    started = time.monotonic()
    loaded = ingest_paths([folder], Store(engine)).files_loaded
    elapsed = time.monotonic() - started
    engine.dispose()
    assert loaded == count
    return count / elapsed


def summary(values: list[float]) -> tuple[float, float, float]:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return statistics.median(ms), p95, ms[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-kind", type=int, default=250, help="files written, and renamed (default 250 each)"
    )
    parser.add_argument("--appends", type=int, default=200, help="JSONL lines appended (default 200)")
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, help="where to work (default: a temporary folder)")
    parser.add_argument("--poll", action="store_true", help="run the watcher with --poll")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="baton-watch-bench-", dir=args.dir))
    root, staging, db = work / "watched", work / "staging", work / "baton.db"
    root.mkdir(), staging.mkdir()
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    command = [sys.executable, "-m", "baton", "watch", str(root), "--db", url, "--quiet"]
    watcher = subprocess.Popen(
        command + (["--poll"] if args.poll else []), cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    try:
        assert watcher.stderr is not None
        print(watcher.stderr.readline().strip(), file=sys.stderr)
        time.sleep(0.5)  # the catch-up scan of an empty folder
        rows = [
            ("in-place write, from close", measure_writes(root, engine, args.per_kind, rename=False)),
            ("write .tmp + rename, from rename", measure_writes(root, engine, args.per_kind, rename=True)),
            ("JSONL append, from close", measure_appends(root, engine, args.appends)),
        ]
        burst = measure_burst(root, staging, engine, args.burst)
        reference = reference_ingest(staging, args.burst)
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=60)
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    files = 2 * args.per_kind + min(args.appends, 25)
    print(
        f"baton watch{' --poll' if args.poll else ''}: {files} files (ACF + loopengt checkpoints, "
        f"loopengt traces); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'measure':36} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   target")
    for name, values in rows:
        p50, p95, worst = summary(values)
        verdict = "ok" if p95 <= TARGET_P95_MS else "MISSED"
        print(
            f"{name:36} {len(values):>6} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f}   p95 <= {TARGET_P95_MS:.0f} ms {verdict}"
        )
    verdict = "ok" if burst >= TARGET_BURST else "MISSED"
    print(
        f"{f'burst of {args.burst} files moved in':36} {args.burst:>6} {burst:>17.0f} files/s"
        f"          >= {TARGET_BURST:.0f} files/s {verdict}"
    )
    print(
        f"{'(same files, one ingest_paths pass)':36} {args.burst:>6} {reference:>17.0f} files/s"
        "          the floor on this machine now"
    )
    print(err.strip().splitlines()[-1] if err.strip() else "", file=sys.stderr)


if __name__ == "__main__":
    main()

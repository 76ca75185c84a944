"""Peak memory of `baton ingest` on two hostile shapes, beside orjson reading the same file.

Usage: ``python bench/hostile_memory.py [--blob-mb 50] [--line-mb 10]``

Writes one ACF checkpoint that is a single 50 MB JSON document (its bulk in one field) and a
JSON Lines file that is one 10 MB line, then, for each, runs ``baton ingest FILE`` (one
process: ``BATON_INGEST_WORKERS=1``) and ``python -c "orjson.loads(...)"`` of the same file in
their own processes, and prints each one's peak resident memory (``ru_maxrss``),
the difference, and the ratio to the floor, beside ``baton ingest`` of an empty folder (its
start-up and database, paid whatever the file). The floor is what any reader of the file
pays: a Python process holding the bytes and the decoded document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACF = REPO / "sample_runs/acf/v0.1.0/runs/pricing-scrape/attempt-1/start.json"
FLOOR = "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())"


def _document(megabytes: float) -> dict:
    """A real ACF checkpoint with a field of many small objects (unknown fields are kept raw)."""
    doc = json.loads(ACF.read_text())
    item = {"url": "https://example.com/page/000000", "price": 12.5, "seen": True}
    count = int(megabytes * 1e6 / (len(json.dumps(item)) + 2))
    doc["scraped"] = [dict(item, url=f"https://example.com/page/{n:06d}") for n in range(count)]
    return doc


def _write_cases(folder: Path, blob_mb: float, line_mb: float) -> dict[str, Path]:
    blob = folder / "blob" / "checkpoint.json"
    blob.parent.mkdir()
    blob.write_text(json.dumps(_document(blob_mb), indent=1))
    line = folder / "line" / "stream.jsonl"
    line.parent.mkdir()
    line.write_text(json.dumps(_document(line_mb)) + "\n")
    return {f"single JSON document ({blob_mb:g} MB)": blob, f"single JSONL line ({line_mb:g} MB)": line}


def _peak_mb(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """The peak resident memory of ``command``'s process, and its standard output: run under a
    small Python parent that reports its one child's ``ru_maxrss``."""
    wrapper = (
        "import os, subprocess, sys, resource\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "sys.stderr.buffer.write(p.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stdout.buffer.write(p.stdout)\n"
        "sys.exit(p.returncode)\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=REPO, env=env, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr.decode()}")
    first, _, rest = done.stdout.decode().partition("\n")
    return int(first) / 1024, rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blob-mb", type=float, default=50.0)
    parser.add_argument("--line-mb", type=float, default=10.0)
    args = parser.parse_args()
    env = os.environ | {"PYTHONPATH": str(REPO), "BATON_INGEST_WORKERS": "1"}
    with tempfile.TemporaryDirectory(prefix="baton-hostile-memory-") as tmp:
        folder = Path(tmp)
        cases = _write_cases(folder, args.blob_mb, args.line_mb)
        empty = folder / "empty"
        empty.mkdir()
        start_mb, _ = _peak_mb(
            [sys.executable, "-m", "baton", "ingest", str(empty), "--db", f"sqlite:///{folder / 'e.db'}"], env
        )
        print(f"baton ingest of an empty folder (start-up, database): {start_mb:.1f} MB")
        print(f"{'case':<34} {'file MB':>8} {'baton MB':>9} {'floor MB':>9} {'extra MB':>9} {'ratio':>6}")
        for n, (name, path) in enumerate(cases.items()):
            db_url = f"sqlite:///{folder / f'baton-{n}.db'}"
            ingest = [sys.executable, "-m", "baton", "ingest", str(path), "--db", db_url, "--json"]
            baton_mb, out = _peak_mb(ingest, env)
            summary = json.loads(out)
            if summary["files_loaded"] != 1:
                raise SystemExit(f"{name}: not loaded: {summary}")
            floor_mb, _ = _peak_mb([sys.executable, "-c", FLOOR, str(path)], env)
            size_mb = path.stat().st_size / 1e6
            print(
                f"{name:<34} {size_mb:>8.1f} {baton_mb:>9.1f} {floor_mb:>9.1f} "
                f"{baton_mb - floor_mb:>9.1f} {baton_mb / floor_mb:>5.2f}x"
            )
        print(
            "(peak resident memory of each process; the floor is orjson.loads of the same file, extra"
            " is baton's peak beyond it, of which the empty folder's is start-up)"
        )


if __name__ == "__main__":
    main()

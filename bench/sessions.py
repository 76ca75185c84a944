"""Claude Code ingest speed: a realistic ``~/.claude/projects`` against a raw floor.

Usage: ``python bench/sessions.py [--size 1024] [--min-mb 1] [--max-mb 20] [--dir DIR] [--keep]``

Generates ``--size`` MB of Claude Code transcripts (default 1 GB) in sessions of ``--min-mb``
to ``--max-mb`` MB, shaped like real ones (streamed assistant lines, tool calls with file
contents and command output, many ``progress`` lines, file-history snapshots, a subagent file
for one session in five), then prints in one run:

* the floor: read every file and ``orjson.loads`` every line, in one process (MB/s, seconds);
* beside it, a floor that also stores: each user and assistant line as one row of a table
  indexed as Baton's events are, in a fresh SQLite file (the cost no store of these lines avoids);
* cold ingest (``ingest.loader.ingest_paths`` into a fresh SQLite file): MB/s, seconds, and
  its time over the floor's (target: within 2x);
* the unchanged re-ingest: seconds;
* peak RSS of this process and of the helper processes (target: below 400 MB);
* the CPU seconds of the floor and of the cold ingest, and their ratio (steadier than the
  wall clock on a machine shared with other work).

The tree is read once before each timed pass (this VM drops files from its page cache).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import make_engine  # noqa: E402
from core.store import Store  # noqa: E402
from ingest.loader import ingest_paths  # noqa: E402

TARGETS = {"floor_ratio": 2.0, "peak_rss_mb": 400}
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001")
TOOLS = ("Read", "Edit", "Bash", "Grep", "Write", "TodoWrite")
WORDS = [
    "the",
    "session",
    "parser",
    "reads",
    "every",
    "line",
    "of",
    "the",
    "transcript",
    "and",
    "counts",
    "each",
    "response",
    "once",
]


def _text(rng: random.Random, size: int) -> str:
    words = []
    total = 0
    while total < size:
        word = rng.choice(WORDS)
        words.append(word)
        total += len(word) + 1
    return " ".join(words)


class Writer:
    """One transcript file, written line by line with parentUuid chaining."""

    def __init__(self, path: Path, session: str, rng: random.Random, agent: str | None = None) -> None:
        self.handle = path.open("wb")
        self.session, self.rng, self.agent = session, rng, agent
        self.parent: str | None = None
        self.n = 0
        self.now = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(100_000))
        self.written = 0

    def line(self, kind: str, **fields: object) -> str:
        self.n += 1
        self.now += timedelta(milliseconds=self.rng.randrange(200, 4000))
        uuid = f"{self.session[:8]}-{self.n:04x}-4{self.n % 4096:03x}-8000-{self.n:012x}"
        body: dict[str, object] = {
            "parentUuid": self.parent,
            "isSidechain": self.agent is not None,
            "userType": "external",
            "cwd": "/home/dev/project",
            "sessionId": self.session,
            "version": "2.1.152",
            "gitBranch": "main",
            "type": kind,
            "uuid": uuid,
            "timestamp": self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if self.agent:
            body["agentId"] = self.agent
        body.update(fields)
        data = orjson.dumps(body) + b"\n"
        self.handle.write(data)
        self.written += len(data)
        self.parent = uuid
        return uuid

    def turn(self, turn: int) -> None:
        rng = self.rng
        self.line("user", message={"role": "user", "content": _text(rng, rng.randrange(40, 400))})
        model = rng.choice(MODELS)
        for step in range(rng.randrange(2, 8)):
            msg = f"msg_{self.session[:6]}{turn:04d}{step:02d}"
            usage = {
                "input_tokens": rng.randrange(1, 50),
                "cache_creation_input_tokens": rng.randrange(0, 5000),
                "cache_read_input_tokens": rng.randrange(0, 150_000),
                "output_tokens": rng.randrange(10, 2000),
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 0,
                    "ephemeral_1h_input_tokens": rng.randrange(0, 5000),
                },
                "service_tier": "standard",
            }
            tool_id = f"toolu_{msg}"
            name = rng.choice(TOOLS)
            base = {"id": msg, "type": "message", "role": "assistant", "model": model, "stop_sequence": None}
            self.line(
                "assistant",
                requestId=f"req_{msg}",
                message=base
                | {
                    "content": [{"type": "text", "text": _text(rng, 200)}],
                    "stop_reason": None,
                    "usage": usage,
                },
            )
            tool_input = {
                "file_path": "/home/dev/project/src/module.py",
                "content": _text(rng, rng.randrange(100, 3000)),
            }
            self.line(
                "assistant",
                requestId=f"req_{msg}",
                message=base
                | {
                    "content": [{"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}],
                    "stop_reason": "tool_use",
                    "usage": usage,
                },
            )
            for _ in range(rng.randrange(0, 6)):
                self.line(
                    "progress",
                    toolUseID=tool_id,
                    parentToolUseID=tool_id,
                    data={"type": "bash_progress", "output": _text(rng, 120)},
                )
            output = _text(rng, rng.randrange(200, 8000))
            self.line(
                "user",
                message={
                    "role": "user",
                    "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": output}],
                },
                toolUseResult={"stdout": output, "stderr": "", "interrupted": False},
            )
        self.line(
            "assistant",
            requestId=f"req_end{turn}",
            message={
                "id": f"msg_end{self.session[:6]}{turn}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": _text(rng, 300)}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 200, "cache_read_input_tokens": 9000},
            },
        )
        self.handle.write(
            orjson.dumps(
                {
                    "type": "file-history-snapshot",
                    "messageId": self.parent,
                    "snapshot": {"trackedFileBackups": {}, "timestamp": "2026-11-01T00:00:00Z"},
                    "isSnapshotUpdate": False,
                }
            )
            + b"\n"
        )

    def fill(self, size: int) -> None:
        turn = 0
        while self.written < size:
            self.turn(turn)
            turn += 1
        self.handle.close()


def generate(root: Path, size_mb: float, min_mb: float, max_mb: float, seed: int = 7) -> tuple[int, int]:
    """Write the tree; returns (files, bytes)."""
    rng = random.Random(seed)
    total, files, index = int(size_mb * 1e6), 0, 0
    written = 0
    while written < total:
        index += 1
        session = f"{index:08x}-1111-4111-8111-{rng.randrange(16**12):012x}"
        project = root / f"-home-dev-project{index % 7}"
        project.mkdir(parents=True, exist_ok=True)
        target = min(int(rng.uniform(min_mb, max_mb) * 1e6), total - written) or 1
        share = target // 5 if index % 5 == 0 else 0
        main = Writer(project / f"{session}.jsonl", session, rng)
        main.fill(target - share)
        written += main.written
        files += 1
        if share:
            agent_dir = project / session / "subagents"
            agent_dir.mkdir(parents=True)
            sub = Writer(agent_dir / "agent-a1b2c3d.jsonl", session, rng, agent="a1b2c3d")
            sub.fill(share)
            written += sub.written
            files += 1
    return files, written


def warm(root: Path) -> None:
    for path in root.rglob("*.jsonl"):
        with path.open("rb") as handle:
            while handle.read(1 << 22):
                pass


def floor(root: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) to read every file and orjson.loads every line."""
    started, cpu = time.perf_counter(), cpu_s()
    for path in root.rglob("*.jsonl"):
        for raw in path.read_bytes().split(b"\n"):
            if raw:
                orjson.loads(raw)
    return time.perf_counter() - started, cpu_s() - cpu


def cpu_s() -> float:
    """CPU seconds of this process and its finished helpers: on a machine shared with other
    work, steadier than the wall clock."""
    own, helpers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + helpers.ru_utime + helpers.ru_stime


def floor_with_insert(root: Path, target: Path) -> float:
    """The floor, then what every store does at least: each user and assistant line (one per
    model response copy, tool call or tool result) as a row of a table with the indexes of
    Baton's ``event`` table (a hashed key, the file, the kind, the session with the kind and
    with the time), holding its message's JSON cut to 500 bytes (about what Baton keeps of a
    tool call or result), inserted into a fresh SQLite file in one transaction."""
    started = time.perf_counter()
    rows = []
    for path in root.rglob("*.jsonl"):
        name = str(path)
        for raw in path.read_bytes().split(b"\n"):
            if raw:
                line = orjson.loads(raw)
                if line.get("type") in ("user", "assistant"):
                    key = hashlib.blake2b(f"{name}\x1f{line['uuid']}".encode(), digest_size=10).hexdigest()
                    data = orjson.dumps(line["message"])[:500].decode(errors="ignore")
                    rows.append((key, line["sessionId"], name, line["type"], line["timestamp"], data))
    out = sqlite3.connect(target)
    out.execute("PRAGMA journal_mode=WAL")
    out.execute("PRAGMA synchronous=NORMAL")
    out.execute(
        "CREATE TABLE event (id TEXT PRIMARY KEY, run_id TEXT, source TEXT, kind TEXT, at TEXT, data TEXT)"
    )
    for columns in ("source", "kind", "run_id, kind", "run_id, at"):
        out.execute(f"CREATE INDEX ix_{columns.replace(', ', '_')} ON event ({columns})")
    out.executemany("INSERT INTO event VALUES (?, ?, ?, ?, ?, ?)", rows)
    out.commit()
    out.close()
    return time.perf_counter() - started


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1024, help="MB of transcripts (default 1024)")
    parser.add_argument("--min-mb", type=float, default=1.0)
    parser.add_argument("--max-mb", type=float, default=20.0)
    parser.add_argument("--dir", type=Path, help="where to generate (default: a temporary folder)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated tree (a kept tree in --dir is reused)"
    )
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="baton-sessions-"))
    tree = base / "projects"
    try:
        started = time.perf_counter()
        for old in (base / "bench.db", base / "floor.db"):  # a kept folder's last run
            for path in (old, old.with_name(old.name + "-wal"), old.with_name(old.name + "-shm")):
                path.unlink(missing_ok=True)
        if args.keep and tree.is_dir() and any(tree.iterdir()):  # kept from a run before: reused
            paths = list(tree.rglob("*.jsonl"))
            files, size = len(paths), sum(path.stat().st_size for path in paths)
            print(f"reusing {files} files, {size / 1e6:,.1f} MB ({tree}; --size is ignored)")
        else:
            files, size = generate(tree, args.size, args.min_mb, args.max_mb)
            print(
                f"generated {files} files, {size / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s ({tree})"
            )
        mb = size / 1e6
        warm(tree)
        floor_s, floor_cpu = floor(tree)
        baseline_rss = peak_mb(resource.RUSAGE_SELF)
        store = Store(make_engine(f"sqlite:///{base / 'bench.db'}"))
        warm(tree)
        started, cpu = time.perf_counter(), cpu_s()
        cold = ingest_paths([tree], store)
        cold_s, cold_cpu = time.perf_counter() - started, cpu_s() - cpu
        warm(tree)
        started = time.perf_counter()
        again = ingest_paths([tree], store)
        unchanged_s = time.perf_counter() - started
        rss = max(peak_mb(resource.RUSAGE_SELF), peak_mb(resource.RUSAGE_CHILDREN))
        warm(tree)
        insert_s = floor_with_insert(tree, base / "floor.db")  # after the peak is read: it holds its rows
        print(
            f"cold ingest: loaded {cold.files_loaded}, failed {cold.files_failed}, runs {cold.runs}, events {cold.events}"
        )
        print(f"re-ingest:   unchanged {again.files_unchanged}, loaded {again.files_loaded}")
        print(f"{'measure':<34}{'measured':>12}  target")
        print(f"{'floor (read + orjson.loads) MB/s':<34}{mb / floor_s:>12,.1f}")
        print(f"{'floor seconds':<34}{floor_s:>12,.2f}")
        print(f"{'floor + insert MB/s':<34}{mb / insert_s:>12,.1f}")
        print(f"{'cold ingest MB/s':<34}{mb / cold_s:>12,.1f}")
        print(f"{'cold ingest seconds':<34}{cold_s:>12,.2f}")
        print(f"{'cold ingest / floor (time)':<34}{cold_s / floor_s:>11,.2f}x  <= {TARGETS['floor_ratio']}x")
        print(f"{'cold ingest / floor + insert':<34}{cold_s / insert_s:>11,.2f}x")
        print(f"{'floor CPU seconds':<34}{floor_cpu:>12,.2f}")
        print(f"{'cold ingest CPU seconds':<34}{cold_cpu:>12,.2f}")
        print(f"{'cold ingest / floor (CPU)':<34}{cold_cpu / max(floor_cpu, 1e-6):>11,.2f}x")
        print(f"{'unchanged re-ingest MB/s':<34}{mb / unchanged_s:>12,.1f}")
        print(f"{'unchanged re-ingest seconds':<34}{unchanged_s:>12,.2f}")
        print(f"{'peak RSS MB (any process)':<34}{rss:>12,.0f}  < {TARGETS['peak_rss_mb']}")
        print(f"{'RSS MB after the floor':<34}{baseline_rss:>12,.0f}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

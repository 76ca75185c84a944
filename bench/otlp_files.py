"""Cold ingest of OTLP/JSON trace files: spans/s beside a floor of ``orjson.loads``.

Usage: ``python bench/otlp_files.py [--spans 200000] [--per-trace 100] [--batch 512] [--files 8] [--repeat 3]``

Writes N spans as the Collector's file exporter (and ``baton otlp``'s spool) would: one
ExportTraceServiceRequest of ``--batch`` spans per line (512, the SDK BatchSpanProcessor's
batch), spread over ``--files`` files, each trace an ``invoke_agent`` root with ``chat`` and
``execute_tool`` children in GenAI names. Then, alternating, medians of ``--repeat`` rounds:

* cold ingest (``ingest.loader.ingest_paths`` into a fresh SQLite file): spans/s;
* the floor: read each file and ``orjson.loads`` each line (no records, no database).

Every timed pass starts with the files just read once (this VM drops its page cache fast).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _attr(key: str, value: object) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(trace: int, index: int, per_trace: int, start: int) -> dict:
    trace_id = f"{trace:032x}"
    span_id = f"{trace * per_trace + index + 1:016x}"
    root_id = f"{trace * per_trace + 1:016x}"
    span = {
        "traceId": trace_id,
        "spanId": span_id,
        "startTimeUnixNano": str(start + index * 1_000_000),
        "endTimeUnixNano": str(start + index * 1_000_000 + 800_000),
        "status": {},
        "flags": 256,
    }
    if index == 0:
        span |= {
            "name": "invoke_agent bench-agent",
            "kind": 1,
            "attributes": [
                _attr("gen_ai.operation.name", "invoke_agent"),
                _attr("gen_ai.agent.name", "bench-agent"),
            ],
        }
        span["endTimeUnixNano"] = str(start + per_trace * 1_000_000)
    elif index % 2:
        span |= {
            "name": "chat gpt-4o-mini",
            "kind": 3,
            "parentSpanId": root_id,
            "attributes": [
                _attr("gen_ai.operation.name", "chat"),
                _attr("gen_ai.request.model", "gpt-4o-mini"),
                _attr("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                _attr("gen_ai.usage.input_tokens", 420),
                _attr("gen_ai.usage.output_tokens", 30),
            ],
        }
    else:
        span |= {
            "name": "execute_tool lookup",
            "kind": 1,
            "parentSpanId": root_id,
            "attributes": [
                _attr("gen_ai.operation.name", "execute_tool"),
                _attr("gen_ai.tool.name", "lookup"),
            ],
        }
    return span


def write_files(folder: Path, spans: int, per_trace: int, batch: int, files: int) -> int:
    resource = {"attributes": [_attr("service.name", "bench"), _attr("telemetry.sdk.language", "python")]}
    scope = {"name": "bench.agent", "version": "1.0"}
    handles = [(folder / f"traces-{n}.jsonl").open("wb") for n in range(files)]
    lines, pending = 0, []
    start = 1_796_000_000_000_000_000
    for number in range(spans):
        trace, index = divmod(number, per_trace)
        pending.append(_span(trace, index, per_trace, start + trace * 10**9))
        if len(pending) == batch or number == spans - 1:
            request = {
                "resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": scope, "spans": pending}]}]
            }
            handles[lines % files].write(orjson.dumps(request) + b"\n")
            lines, pending = lines + 1, []
    for handle in handles:
        handle.close()
    return lines


def warm(folder: Path) -> None:
    for path in folder.iterdir():
        path.read_bytes()


def floor(folder: Path) -> tuple[float, int]:
    warm(folder)
    began, count = time.perf_counter(), 0
    for path in sorted(folder.iterdir()):
        with path.open("rb") as handle:
            for line in handle:
                count += len(orjson.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"])
    return time.perf_counter() - began, count


def cold(folder: Path, db_dir: Path) -> tuple[float, object]:
    from core.db import make_engine
    from core.store import Store
    from ingest.loader import ingest_paths

    shutil.rmtree(db_dir, ignore_errors=True)
    db_dir.mkdir()
    store = Store(make_engine(f"sqlite:///{db_dir / 'baton.db'}"))
    warm(folder)
    began = time.perf_counter()
    summary = ingest_paths([folder], store)
    seconds = time.perf_counter() - began
    store.engine.dispose()
    return seconds, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--per-trace", type=int, default=100)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_otlp_") as tmp:
        folder = Path(tmp) / "traces"
        folder.mkdir()
        lines = write_files(folder, args.spans, args.per_trace, args.batch, args.files)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{args.spans:,} spans in {lines:,} lines, {args.files} files, {size / 1e6:.1f} MB")
        colds, floors = [], []
        summary = None
        for _ in range(args.repeat):
            seconds, summary = cold(folder, Path(tmp) / "db")
            colds.append(seconds)
            seconds, counted = floor(folder)
            assert counted == args.spans, counted
            floors.append(seconds)
        assert summary is not None
        print(
            f"cold ingest: loaded {summary.files_loaded}, failed {summary.files_failed}, "
            f"{summary.runs:,} runs, {summary.events:,} events"
        )
        cold_s, floor_s = median(colds), median(floors)
        print(f"  cold ingest spans/s            {args.spans / cold_s:,.0f}")
        print(f"  floor (orjson.loads) spans/s   {args.spans / floor_s:,.0f}")
        print(f"  cold ingest / floor (time)     {cold_s / floor_s:.1f}x")
        print(
            f"  (cores: {os.cpu_count()}; BATON_INGEST_WORKERS={os.environ.get('BATON_INGEST_WORKERS', 'default')})"
        )


if __name__ == "__main__":
    main()

"""Spans per second ``baton otlp`` accepts, and how soon they are queryable, beside Arize
Phoenix measured in the same run.

Usage: ``python bench/otlp.py [--spans 200000] [--batch 512] [--senders 1] [--rate SPANS_PER_S] [--no-phoenix]``

The spans (GenAI-convention agent traces of 8 spans: an agent span, model calls, tool calls,
each with the attributes an instrumentation sets) are encoded into OTLP/HTTP protobuf
requests of ``--batch`` spans (512, the SDK BatchSpanProcessor's batch) before the clock
starts, then posted by ``--senders`` keep-alive connections, each waiting for its answer as
the SDK's exporter does; as fast as they are answered, or with ``--rate`` paced to that many
spans a second in all (request k posted no sooner than k * batch / rate seconds after the
first: agents export at their own pace, which is what a user running them sees):

* to ``baton otlp`` (a subprocess on a free loopback port, a fresh spool), with ``baton watch``
  on the spool into a fresh SQLite database: spans/s from the first post to the last
  acknowledgement (each acknowledged after its line is fsynced), then the time from the last
  acknowledgement until every span is an event in the database (needs the otel parser);
* to Arize Phoenix (``phoenix serve`` on a free loopback port from its own venv, made once
  under ``~/.cache/baton-bench/phoenix-venv`` with ``pip install arize-phoenix``; skipped with a
  message where it cannot install or start): spans/s accepted (Phoenix answers before it
  stores anything: its spans wait in memory), then the time until its GraphQL API counts
  every span in the project (at most ``--phoenix-wait`` seconds, then how many it counted).

Targets: Baton >= 5x Phoenix's spans/s, every span queryable within 2 s of the last send.
Every figure depends on the machine's load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PHOENIX_VENV = Path("~/.cache/baton-bench/phoenix-venv").expanduser()
SPANS_PER_TRACE = 8


def build_requests(spans: int, batch: int) -> list[bytes]:
    """``spans`` spans in protobuf requests of ``batch``, as the SDK encodes them."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def attr(key: str, value: object) -> KeyValue:
        if isinstance(value, bool):
            return KeyValue(key=key, value=AnyValue(bool_value=value))
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        if isinstance(value, float):
            return KeyValue(key=key, value=AnyValue(double_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    resource = [attr("service.name", "bench-agent"), attr("telemetry.sdk.language", "python"),
                attr("telemetry.sdk.name", "opentelemetry"), attr("telemetry.sdk.version", "1.45.2")]  # fmt: skip
    start = 1_796_000_000_000_000_000
    bodies = []
    made = 0
    while made < spans:
        request = ExportTraceServiceRequest()
        rs = request.resource_spans.add()
        rs.resource.attributes.extend(resource)
        scope = rs.scope_spans.add()
        scope.scope.name, scope.scope.version = "bench.genai", "1.0"
        for _ in range(min(batch, spans - made)):
            trace_number, position = divmod(made, SPANS_PER_TRACE)
            span = scope.spans.add()
            span.trace_id = (trace_number + 1).to_bytes(16, "big")
            span.span_id = (made + 1).to_bytes(8, "big")
            span.flags = 256
            span.start_time_unix_nano = start + made * 1_000_000
            span.end_time_unix_nano = span.start_time_unix_nano + 800_000
            span.status.SetInParent()
            if position == 0:
                span.name, span.kind = "invoke_agent researcher", 1
                span.attributes.extend([attr("gen_ai.operation.name", "invoke_agent"),
                                        attr("gen_ai.agent.name", "researcher")])  # fmt: skip
            else:
                span.parent_span_id = (made + 1 - position).to_bytes(8, "big")
                if position % 2:
                    span.name, span.kind = "chat gpt-4o-mini", 3
                    span.attributes.extend([
                        attr("gen_ai.operation.name", "chat"), attr("gen_ai.provider.name", "openai"),
                        attr("gen_ai.request.model", "gpt-4o-mini"), attr("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                        attr("gen_ai.usage.input_tokens", 420 + position), attr("gen_ai.usage.output_tokens", 42),
                        attr("gen_ai.request.temperature", 0.2), attr("gen_ai.response.id", f"chatcmpl-{made}"),
                    ])  # fmt: skip
                else:
                    span.name, span.kind = "execute_tool search", 1
                    span.attributes.extend([attr("gen_ai.operation.name", "execute_tool"),
                                            attr("gen_ai.tool.name", "search"), attr("gen_ai.tool.call.id", f"call_{made}")])  # fmt: skip
            made += 1
        bodies.append(request.SerializeToString())
    return bodies


RETRYABLE = {429, 502, 503, 504}  # the OTLP/HTTP spec's retryable statuses


def send_all(
    host: str, port: int, bodies: list[bytes], senders: int, rate: float | None = None, batch: int = 512
) -> tuple[float, float, int]:
    """Post every body (``senders`` connections, each waiting for its answers), retrying a
    retryable refusal after a backoff of 1, 2, 4 s ... as the SDK's exporter does; returns
    the seconds from the first post to the last 200, that last moment (perf_counter), and
    how many posts were refused and retried."""
    failures: list[str] = []
    retries = [0]
    lock = threading.Lock()
    queue = list(reversed(list(enumerate(bodies))))
    started = time.perf_counter()

    def sender() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                index, body = queue.pop()
            if rate:
                time.sleep(max(0.0, started + index * batch / rate - time.perf_counter()))
            backoff, lost = 1.0, False
            while True:
                try:
                    connection.request(
                        "POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"}
                    )
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):  # the server closed an idle connection
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=120)
                    if backoff > 64:
                        lost = True
                        failures.append("connection lost")
                        break
                    backoff *= 2
                    continue
                if response.status not in RETRYABLE or backoff > 64:
                    break
                with lock:
                    retries[0] += 1
                time.sleep(backoff)
                backoff *= 2
            if not lost and response.status != 200:
                failures.append(f"{response.status} {response.reason}")
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last = time.perf_counter()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: {failures[:3]}")
    return last - started, last, retries[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.02) -> float | None:  # type: ignore[no-untyped-def]
    """perf_counter when ``predicate()`` first held, or None after ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(interval)
    return None


def bench_baton(
    bodies: list[bytes],
    spans: int,
    senders: int,
    work: Path,
    keep: Path | None = None,
    rate: float | None = None,
    batch: int = 512,
) -> tuple[float, float | None, str]:
    from sqlalchemy import text

    from core.db import make_engine
    from ingest.parsers import BY_FRAMEWORK

    spool, db = work / "spool", f"sqlite:///{work / 'baton.db'}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "baton", "otlp", "--port", str(port), "--spool", str(spool)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert receiver.stderr is not None
    first = receiver.stderr.readline()
    if not first.startswith("listening on"):
        raise SystemExit(f"baton otlp did not start: {first}{receiver.stderr.read()}")
    parser = "otel" in BY_FRAMEWORK
    watcher = None
    engine = make_engine(db)
    if parser:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "baton", "watch", str(spool), "--db", db, "--quiet"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert watcher.stderr is not None
        watcher.stderr.readline()  # "watching ...": caught up on the empty spool
    try:
        seconds, last, retried = send_all("127.0.0.1", port, bodies, senders, rate, batch)
        queryable: float | None = None
        note = f"{retried} posts refused and retried; " if retried else ""
        if parser:
            query = text(
                "SELECT count(*) FROM event JOIN run ON run.id = event.run_id WHERE run.framework = 'otel'"
            )

            def all_loaded() -> bool:
                with engine.connect() as connection:
                    return connection.execute(query).scalar_one() >= spans

            done = wait_until(all_loaded, 300)
            queryable = None if done is None else done - last
            note += "" if done is not None else "not all spans loaded within 300 s"
        else:
            note += "not measured: this tree has no otel parser (issue 18's parser is merged separately)"
    finally:
        for process in (watcher, receiver):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
        engine.dispose()
    if keep is not None:
        shutil.copytree(spool, keep, dirs_exist_ok=True)
    written = sum(
        line.count(b'"spanId"') for p in spool.glob("traces-*.jsonl") for line in p.read_bytes().splitlines()
    )
    if written != spans:
        raise SystemExit(f"the spool holds {written} spans, not {spans}")
    return spans / seconds, queryable, note


def phoenix_python() -> Path | str:
    """The Phoenix venv's python, made on first use; or why it cannot be had."""
    python = PHOENIX_VENV / "bin" / "python"
    if (PHOENIX_VENV / "bin" / "phoenix").exists():
        return python
    print(f"installing arize-phoenix into {PHOENIX_VENV} (once; a few minutes)…", file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PHOENIX_VENV)], check=True, timeout=300)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "arize-phoenix"],
            check=True, timeout=1800, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(PHOENIX_VENV, ignore_errors=True)
        return f"pip install arize-phoenix failed: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    return python


def bench_phoenix(
    bodies: list[bytes],
    spans: int,
    senders: int,
    work: Path,
    wait: float,
    rate: float | None = None,
    batch: int = 512,
) -> tuple[float, float | None, str]:
    python = phoenix_python()
    if isinstance(python, str):
        return 0.0, None, python
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('arize-phoenix'))"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_WORKING_DIR": str(work / "phoenix"),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
    }
    log = open(work / "phoenix.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [str(PHOENIX_VENV / "bin" / "phoenix"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return server.poll() is not None  # stop waiting: it exited

    try:
        if wait_until(healthy, 180, 0.25) is None or server.poll() is not None:
            return 0.0, None, f"phoenix serve did not start (see {work / 'phoenix.log'})"
        seconds, last, retried = send_all("127.0.0.1", port, bodies, senders, rate, batch)
        refusals = f", {retried} posts refused (503) and retried" if retried else ""
        seen = [0]

        def counted() -> bool:
            query = json.dumps({"query": "{ projects { edges { node { name recordCount } } } }"}).encode()
            request = urllib.request.Request(
                f"{base}/graphql", data=query, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    edges = json.loads(answer.read())["data"]["projects"]["edges"]
            except (OSError, KeyError, TypeError, ValueError):
                return False
            seen[0] = sum(e["node"]["recordCount"] for e in edges)
            return seen[0] >= spans

        rate = spans / seconds
        print(
            f"Arize Phoenix {version}: accepted {rate:,.0f} spans/s; waiting for its API to count them",
            flush=True,
        )
        done = wait_until(counted, wait, 0.2)
        if done is None:
            return (
                rate,
                None,
                f"{seen[0]:,} of {spans:,} spans queryable {wait:.0f} s after the last send{refusals}",
            )
        return rate, done - last, f"Arize Phoenix {version}{refusals}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=512, help="spans per request (the SDK's batch)")
    parser.add_argument("--senders", type=int, default=1, help="parallel connections (1: one SDK exporter)")
    parser.add_argument(
        "--rate", type=float, help="spans/s to pace the sends to (default: as fast as answered)"
    )
    parser.add_argument("--no-phoenix", action="store_true", help="measure Baton only")
    parser.add_argument("--keep-spool", type=Path, help="copy Baton's spool files into this folder")
    parser.add_argument(
        "--phoenix-wait", type=float, default=300, help="seconds to wait for Phoenix to count every span"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    bodies = build_requests(args.spans, args.batch)
    megabytes = sum(map(len, bodies)) / 1e6
    print(
        f"{args.spans:,} spans in {len(bodies)} protobuf requests ({megabytes:.1f} MB), {args.senders} sender(s)"
        + (f", paced to {args.rate:,.0f} spans/s" if args.rate else "")
    )
    with tempfile.TemporaryDirectory(prefix="baton-bench-otlp-") as tmp:
        work = Path(tmp)
        (work / "baton").mkdir()
        (work / "phoenix").mkdir()
        baton_rate, baton_ready, baton_note = bench_baton(
            bodies, args.spans, args.senders, work / "baton", args.keep_spool, args.rate, args.batch
        )
        print(
            f"baton otlp: accepted {baton_rate:,.0f} spans/s, queryable {_seconds(baton_ready)} after",
            flush=True,
        )
        if args.no_phoenix:
            phoenix = (0.0, None, "skipped (--no-phoenix)")
        else:
            phoenix = bench_phoenix(
                bodies, args.spans, args.senders, work, args.phoenix_wait, args.rate, args.batch
            )
    print()
    print(f"{'':28} {'spans/s accepted':>18} {'queryable after last send':>27}")
    print(f"{'baton otlp':28} {baton_rate:>18,.0f} {_seconds(baton_ready):>27}   {baton_note}")
    phoenix_rate, phoenix_ready, phoenix_note = phoenix
    if phoenix_rate:
        shown = _seconds(phoenix_ready) if phoenix_ready is not None else f"> {args.phoenix_wait:.0f} s"
        print(f"{'Arize Phoenix':28} {phoenix_rate:>18,.0f} {shown:>27}   {phoenix_note}")
        print(f"{'baton / phoenix':28} {baton_rate / phoenix_rate:>17.1f}x {'':>27}   target >= 5x")
    else:
        print(f"Arize Phoenix: {phoenix_note}")
    print(f"target: every span queryable within 2 s of the last send; baton: {_seconds(baton_ready)}")


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    main()

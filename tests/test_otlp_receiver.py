"""``baton otlp`` end to end: real OpenTelemetry SDK exports (protobuf, gzip, deflate) and
OTLP/JSON bodies sent to the receiver as a subprocess on a free loopback port; the spool
lines must hold exactly the spans the SDK sent, every bad request gets the spec's status and
writes nothing, and a receiver killed with SIGKILL loses nothing it acknowledged."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO
from tests.otlp_helpers import (
    Agent,
    RunningReceiver,
    expected_spans,
    otlp_json,
    spool_lines,
    spool_spans,
    start_receiver,
)

PROTOBUF = "application/x-protobuf"


@pytest.fixture
def receiver(tmp_path: Path) -> Any:
    running = start_receiver(tmp_path / "spool")
    yield running
    running.stop()


def post(
    receiver: RunningReceiver,
    body: bytes,
    content_type: str | None = PROTOBUF,
    headers: dict[str, str] | None = None,
    path: str = "/v1/traces",
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, headers, body."""
    url = urlsplit(receiver.base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    connection.request(method, path, body=body, headers=sent)
    response = connection.getresponse()
    answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    connection.close()
    return answer


def status_of(body: bytes, content_type: str) -> tuple[int, str]:
    """A google.rpc.Status response body's code and message."""
    if content_type == PROTOBUF:
        from google.rpc import status_pb2

        status = status_pb2.Status()
        status.ParseFromString(body)
        return status.code, status.message
    document = json.loads(body)
    return document["code"], document["message"]


def sdk_spans(endpoint: str, runs: int, **agent: Any) -> list[Any]:
    sender = Agent(endpoint, **agent)
    for index in range(runs):
        sender.run_agent(tools=3, fail=index % 2 == 1)
    return sender.finish()


def test_sdk_protobuf_exports_land_in_the_spool_exactly_as_sent(receiver: RunningReceiver) -> None:
    finished = sdk_spans(receiver.endpoint, runs=4)
    assert len(finished) == 4 * 7
    assert spool_spans(receiver.spool) == expected_spans(finished)
    files = list(receiver.spool.glob("traces-*.jsonl"))
    assert len(files) == 1
    stored = spool_spans(receiver.spool)
    failed = [s["span"] for s in stored.values() if s["span"].get("status", {}).get("code") == 2]
    assert [s["status"]["message"] for s in failed] == ["rate limited", "rate limited"]
    assert {s["resource"]["attributes"][-1]["value"]["stringValue"] for s in stored.values()} == {
        "demo-agent"
    }
    assert receiver.stop() == 0
    assert (
        receiver.stderr[-1] == "stopped: 1 requests, 28 spans written, 0 requests refused, 0 spans rejected"
    )


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_compressed_sdk_exports_are_inflated(receiver: RunningReceiver, compression: str) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    finished = sdk_spans(receiver.endpoint, runs=2, compression=Compression(compression))
    assert spool_spans(receiver.spool) == expected_spans(finished)


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_otlp_json_bodies_are_written_with_their_spans_unchanged(
    receiver: RunningReceiver, tmp_path: Path, encoding: str | None
) -> None:
    # The SDK's HTTP exporter only sends protobuf: the JSON body is the OTLP JSON mapping of
    # what it would have sent, pretty-printed as a hand-written sender might.
    finished = sdk_spans(f"{receiver.base}/unused", runs=2)  # the exporter's posts get 404
    document = otlp_json(finished)
    receiver.spool.joinpath("ignored").mkdir()  # nothing but traces-*.jsonl counts
    before = spool_lines(receiver.spool)
    body = json.dumps(document, indent=2).encode()
    headers = {}
    if encoding:
        body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
    status, answer_headers, answer = post(receiver, body, "application/json; charset=utf-8", headers)
    assert (status, answer_headers["content-type"], answer) == (200, "application/json", b"{}")
    assert spool_lines(receiver.spool) == [*before, document]
    assert spool_spans(receiver.spool) == expected_spans(finished)


def test_json_ids_in_base64_are_written_as_hex(receiver: RunningReceiver) -> None:
    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    finished = sdk_spans(f"{receiver.base}/unused", runs=1)
    generic = json_format.MessageToDict(encode_spans(finished), use_integers_for_enums=True)  # base64 ids
    status, _, _ = post(receiver, json.dumps(generic).encode(), "application/json")
    assert status == 200
    assert spool_spans(receiver.spool) == expected_spans(finished)


def test_parallel_exports_are_each_written_once(receiver: RunningReceiver) -> None:
    results: dict[int, list[Any]] = {}

    def agent(index: int) -> None:
        results[index] = sdk_spans(receiver.endpoint, runs=3, service=f"agent-{index}")

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected: dict[str, Any] = {}
    for finished in results.values():
        expected.update(expected_spans(finished))
    assert len(expected) == 6 * 3 * 7
    assert spool_spans(receiver.spool) == expected
    assert len(spool_lines(receiver.spool)) == 6


def test_spans_with_invalid_ids_are_rejected_as_a_partial_success(receiver: RunningReceiver) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    finished = sdk_spans(f"{receiver.base}/unused", runs=1)
    document = otlp_json(finished)
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["traceId"] = "0" * 32
    spans[1]["spanId"] = "not-an-id"
    status, _, answer = post(receiver, json.dumps(document).encode(), "application/json")
    assert status == 200
    assert json.loads(answer) == {
        "partialSuccess": {
            "rejectedSpans": "2",
            "errorMessage": "a span's traceId is not 16 bytes, or is all zero",
        }
    }
    expected = expected_spans(finished)
    assert spool_spans(receiver.spool) == {s["spanId"]: expected[s["spanId"]] for s in spans[2:]}

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = os.urandom(16), b"\x01\x02", "short span id"
    status, _, answer = post(receiver, request.SerializeToString())
    response = ExportTraceServiceResponse()
    response.ParseFromString(answer)
    assert status == 200
    assert (response.partial_success.rejected_spans, response.partial_success.error_message) == (
        1,
        "a span's spanId is not 8 bytes, or is all zero",
    )
    assert len(spool_lines(receiver.spool)) == 1  # nothing kept, nothing written


def _field(tag: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (lengths under 2**21)."""
    size, length = len(payload), b""
    while True:
        low, size = size & 0x7F, size >> 7
        length += bytes([low | (0x80 if size else 0)])
        if not size:
            return bytes([tag]) + length + payload


def _nested_protobuf(depth: int) -> bytes:
    """A request whose one attribute is an array in an array ... ``depth`` deep."""
    value = b"\x0a\x01x"
    for _ in range(depth):
        value = _field(0x2A, _field(0x0A, value))  # AnyValue.array_value.values[0]
    span = (
        _field(0x0A, b"\x01" * 16)
        + _field(0x12, b"\x01" * 8)
        + _field(0x4A, _field(0x0A, b"k") + _field(0x12, value))
    )
    return _field(0x0A, _field(0x12, _field(0x12, span)))


def _bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


BAD_REQUESTS = [
    # (what, body, content type, headers, status, message fragment)
    (
        "protobuf that does not decode",
        b"\xff\xff\xff\xff",
        PROTOBUF,
        {},
        400,
        "not an ExportTraceServiceRequest",
    ),
    (
        "protobuf nested 300 deep",
        _nested_protobuf(300),
        PROTOBUF,
        {},
        400,
        "not an ExportTraceServiceRequest",
    ),
    ("JSON nested 5,000 deep", b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json", {}, 400, "not JSON"),
    ("JSON that does not parse", b'{"resourceSpans": [', "application/json", {}, 400, "not JSON"),
    ("JSON that is not an object", b"[1, 2]", "application/json", {}, 400, "not a JSON object"),
    ("resourceSpans not a list", b'{"resourceSpans": 7}', "application/json", {}, 400, "not an array"),
    ("gzip that is not gzip", b"plain", PROTOBUF, {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
    (
        "gzip cut short",
        gzip.compress(b"x" * 5000)[:-9],
        PROTOBUF,
        {"Content-Encoding": "gzip"},
        400,
        "truncated",
    ),
    ("an unknown content type", b"{}", "text/plain", {}, 415, "unsupported Content-Type 'text/plain'"),
    ("no content type", b"{}", None, {}, 415, "unsupported Content-Type 'none'"),
    (
        "an unknown encoding",
        b"{}",
        "application/json",
        {"Content-Encoding": "br"},
        415,
        "Content-Encoding 'br'",
    ),
    ("a body over the limit", b"\0" * 70_000, PROTOBUF, {}, 413, "the limit is 65,536"),
    (
        "a gzip bomb",
        _bomb(50_000_000),
        PROTOBUF,
        {"Content-Encoding": "gzip"},
        413,
        "inflates to more than 65,536",
    ),
]


@pytest.fixture
def small_receiver(tmp_path: Path) -> Any:
    running = start_receiver(tmp_path / "spool", "--max-request-mb", "0.0625")  # 65,536 bytes
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("what", "body", "content_type", "headers", "code", "message"),
    BAD_REQUESTS,
    ids=[b[0] for b in BAD_REQUESTS],
)
def test_bad_requests_get_the_spec_status_and_write_nothing(
    small_receiver: RunningReceiver,
    what: str,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str],
    code: int,
    message: str,
) -> None:
    status, answer_headers, answer = post(small_receiver, body, content_type, headers)
    assert status == code, answer
    kind = answer_headers["content-type"]
    assert kind == (PROTOBUF if content_type == PROTOBUF and code != 415 else "application/json")
    rpc_code, text = status_of(answer, kind)
    assert message in text
    assert rpc_code == {400: 3, 413: 8, 415: 3}[code]
    assert spool_lines(small_receiver.spool) == []
    assert small_receiver.stop() == 0
    assert any(line.startswith(f"refused ({code}): ") and message in line for line in small_receiver.stderr)
    assert small_receiver.stderr[-1].endswith(
        "0 requests, 0 spans written, 1 requests refused, 0 spans rejected"
    )


def test_other_paths_and_methods_are_refused(receiver: RunningReceiver) -> None:
    assert post(receiver, b"{}", "application/json", path="/v1/metrics")[0] == 404
    status, headers, _ = post(receiver, b"", None, method="GET")
    assert (status, headers["allow"]) == (405, "POST")
    assert spool_lines(receiver.spool) == []


def test_files_rotate_by_size_and_their_names_sort_by_time(tmp_path: Path) -> None:
    running = start_receiver(tmp_path / "spool", "--rotate-mb", "0.01")
    try:
        finished = []
        for _ in range(4):
            finished += sdk_spans(running.endpoint, runs=4)  # one request of about 20 KB each
    finally:
        running.stop()
    files = sorted(running.spool.glob("traces-*.jsonl"))
    assert len(files) == 4
    assert [len(p.read_bytes().splitlines()) for p in files] == [1, 1, 1, 1]
    assert files == sorted(files, key=lambda p: p.stat().st_mtime_ns)
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o600"}  # prompts travel in spans
    assert spool_spans(running.spool) == expected_spans(finished)


def test_binding_beyond_loopback_needs_a_flag_and_warns(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    refused = subprocess.run(
        [sys.executable, "-m", "baton", "otlp", "--host", "0.0.0.0", "--port", "0", "--spool", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "--host 0.0.0.0 is not a loopback address" in refused.stderr
    assert "--allow-remote" in refused.stderr
    assert not list(tmp_path.iterdir())
    running = start_receiver(tmp_path / "spool", "--host", "0.0.0.0", "--allow-remote")
    try:
        assert running.stderr[0].startswith("warning: listening on 0.0.0.0, not loopback")
    finally:
        running.stop()


def test_one_receiver_per_spool_folder(receiver: RunningReceiver) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "baton", "otlp", "--port", "0", "--spool", str(receiver.spool)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 2
    assert second.stderr.strip() == f"baton: another baton otlp already writes to {receiver.spool}"


def _stream(
    receiver: RunningReceiver, acknowledged: list[set[str]], stop: threading.Event, start: int
) -> None:
    """Post requests of 64 spans each, one after another, until the receiver dies or ``stop``;
    the span ids of each acknowledged request go to ``acknowledged``."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    url = urlsplit(receiver.base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    number = start
    while not stop.is_set():
        request = ExportTraceServiceRequest()
        scope = request.resource_spans.add().scope_spans.add()
        ids = set()
        trace_id = number.to_bytes(16, "big")
        for index in range(64):
            span = scope.spans.add()
            span.trace_id, span.name = trace_id, f"step {index}"
            span.span_id = (number * 64 + index + 1).to_bytes(8, "big")
            span.attributes.add(key="payload").value.string_value = "x" * 200
            ids.add(span.span_id.hex())
        number += 1
        try:
            connection.request(
                "POST", "/v1/traces", body=request.SerializeToString(), headers={"Content-Type": PROTOBUF}
            )
            response = connection.getresponse()
            response.read()
        except OSError:
            return
        if response.status == 200:
            acknowledged.append(ids)


def test_a_receiver_killed_mid_stream_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    acknowledged: list[set[str]] = []
    for round_number in range(2):
        running = start_receiver(spool)
        stop = threading.Event()
        senders = [
            threading.Thread(
                target=_stream, args=(running, acknowledged, stop, (round_number * 4 + i) * 10**6 + 1)
            )
            for i in range(4)
        ]
        for sender in senders:
            sender.start()
        before = len(acknowledged)
        deadline = time.monotonic() + 60
        while len(acknowledged) < before + 40:
            assert time.monotonic() < deadline, running.stderr
            time.sleep(0.005)
        running.kill()  # SIGKILL while four senders keep posting
        stop.set()
        for sender in senders:
            sender.join()
    # a write the kill cut short, left as a receiver killed inside os.write would leave it
    newest = sorted(spool.glob("traces-*.jsonl"))[-1]
    with open(newest, "ab") as handle:
        handle.write(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"ab')
    running = start_receiver(spool)  # the restart cuts that partial line off
    try:
        after = sdk_spans(running.endpoint, runs=1)
    finally:
        running.stop()
    assert newest.read_bytes().endswith(b"\n")
    stored = spool_spans(spool)  # every line is whole JSON
    missing = [ids - stored.keys() for ids in acknowledged if ids - stored.keys()]
    assert missing == []
    assert len(acknowledged) >= 80
    assert set(expected_spans(after)) <= stored.keys()


def test_received_spans_become_runs(receiver: RunningReceiver, tmp_path: Path) -> None:
    sender = Agent(receiver.endpoint)
    traces = [sender.run_agent(tools=step) for step in (1, 2, 3)]  # 3, 5 and 7 spans
    finished = sender.finish()
    assert len(spool_spans(receiver.spool)) == len(finished) == 15
    # each span is an event, and so is each span event (one per tool call here)
    events = {trace: 0 for trace in traces}
    for span in finished:
        events[format(span.context.trace_id, "032x")] += 1 + len(span.events)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    db = f"sqlite:///{tmp_path / 'baton.db'}"

    def baton(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "baton", *args, "--db", db],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    summary = json.loads(baton("ingest", str(receiver.spool), "--json"))
    assert (summary["files_loaded"], summary["files_failed"], summary["runs"]) == (1, 0, 3)
    runs = json.loads(baton("runs", "--json"))
    assert sorted((r["framework"], r["native_id"], r["events"]) for r in runs) == sorted(
        ("otel", trace, count) for trace, count in events.items()
    )
    assert {r["status"] for r in runs} == {"completed"}


def test_the_readme_example_sends_its_spans_to_the_receiver(receiver: RunningReceiver) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Receiving traces while agents run", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    done = subprocess.run(
        [sys.executable, "-c", example],
        env={
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stored = spool_spans(receiver.spool)
    assert sorted(s["span"]["name"] for s in stored.values()) == [
        "chat gpt-4o-mini",
        "invoke_agent researcher",
    ]
    services = {
        kv["value"]["stringValue"]
        for s in stored.values()
        for kv in s["resource"]["attributes"]
        if kv["key"] == "service.name"
    }
    assert services == {"my-agent"}

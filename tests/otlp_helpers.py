"""For the receiver tests: ``baton otlp`` as a subprocess, real SDK exports, and what the
SDK itself says it sent (its own protobuf encoding through protobuf's JSON mapping)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import REPO

LISTENING = re.compile(r"^listening on (http://\S+/v1/traces), spool ")


@dataclass
class RunningReceiver:
    process: subprocess.Popen[str]
    endpoint: str
    spool: Path
    stderr: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def base(self) -> str:
        return self.endpoint.removesuffix("/v1/traces")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=30)
        if self.reader is not None:
            self.reader.join(timeout=30)  # every line it printed is in ``stderr``
        return code

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def start_receiver(spool: Path, *extra: str, timeout: float = 60) -> RunningReceiver:
    """``baton otlp --port 0 --spool SPOOL`` as a user starts it; waits for its first line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "baton", "otlp", "--port", "0", "--spool", str(spool), *extra],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    found = threading.Event()
    endpoint: list[str] = []

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            match = LISTENING.match(line)
            if match:
                endpoint.append(match.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.05):
        assert time.monotonic() < deadline, f"baton otlp did not start: {lines}"
    assert endpoint, f"baton otlp exited: {lines}"
    return RunningReceiver(process, endpoint[0], spool, lines, reader)


def spool_lines(spool: Path) -> list[dict[str, Any]]:
    """Every line of every spool file, in file name order (each must be JSON)."""
    out = []
    for path in sorted(spool.glob("traces-*.jsonl")):
        for line in path.read_bytes().splitlines():
            out.append(orjson.loads(line))
    return out


def spool_spans(spool: Path) -> dict[str, dict[str, Any]]:
    """Spans in the spool by span id, each with its resource and scope beside it."""
    spans: dict[str, dict[str, Any]] = {}
    for document in spool_lines(spool):
        for span, resource, scope in walk_spans(document):
            assert span["spanId"] not in spans, f"span {span['spanId']} written twice"
            spans[span["spanId"]] = {"span": span, "resource": resource, "scope": scope}
    return spans


def walk_spans(document: dict[str, Any]) -> list[tuple[dict[str, Any], Any, Any]]:
    return [
        (span, rs.get("resource"), ss.get("scope"))
        for rs in document.get("resourceSpans", ())
        for ss in rs.get("scopeSpans", ())
        for span in ss.get("spans", ())
    ]


def otlp_json(finished: list[Any]) -> dict[str, Any]:
    """What the SDK sends for ``finished`` spans, in the OTLP JSON mapping: the SDK's own
    protobuf encoding through ``json_format`` (integer enums), ids turned from base64 into hex."""
    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    document = json_format.MessageToDict(encode_spans(finished), use_integers_for_enums=True)
    for span, _, _ in walk_spans(document):
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in span:
                span[key] = base64.b64decode(span[key]).hex()
        for link in span.get("links", ()):
            for key in ("traceId", "spanId"):
                link[key] = base64.b64decode(link[key]).hex()
    return document


def expected_spans(finished: list[Any]) -> dict[str, dict[str, Any]]:
    return {
        span["spanId"]: {"span": span, "resource": resource, "scope": scope}
        for span, resource, scope in walk_spans(otlp_json(finished))
    }


class Agent:
    """A real SDK pipeline as an agent sets it up (BatchSpanProcessor + the OTLP/HTTP
    protobuf exporter), plus an in-memory copy of every span it finished."""

    def __init__(self, endpoint: str, service: str = "demo-agent", compression: Any = None) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.memory = InMemorySpanExporter()
        self.exporter = OTLPSpanExporter(endpoint=endpoint, compression=compression, timeout=30)
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter, max_export_batch_size=512))
        self.tracer = self.provider.get_tracer("baton.tests", "1.0")

    def run_agent(self, tools: int = 2, fail: bool = False) -> str:
        """One agent invocation: a root span, model calls and tool calls under it. Returns
        the trace id (hex)."""
        from opentelemetry.trace import Link, SpanKind, Status, StatusCode

        with self.tracer.start_as_current_span("invoke_agent researcher") as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("gen_ai.agent.name", "researcher")
            for step in range(tools):
                with self.tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as chat:
                    chat.set_attributes(
                        {
                            "gen_ai.operation.name": "chat",
                            "gen_ai.request.model": "gpt-4o-mini",
                            "gen_ai.usage.input_tokens": 420 + step,
                            "gen_ai.usage.output_tokens": 42,
                            "gen_ai.request.temperature": 0.25,
                            "gen_ai.response.finish_reasons": ["tool_calls"],
                            "llm.streaming": False,
                        }
                    )
                with self.tracer.start_as_current_span(
                    f"execute_tool search_{step}", links=[Link(chat.get_span_context(), {"why": "called by"})]
                ) as tool:
                    tool.set_attribute("gen_ai.tool.name", f"search_{step}")
                    tool.add_event("tool.result", {"bytes": 1234, "ok": True})
            if fail:
                error = RuntimeError("429 Too Many Requests")
                root.record_exception(error)
                root.set_status(Status(StatusCode.ERROR, "rate limited"))
            return format(root.get_span_context().trace_id, "032x")

    def finish(self) -> list[Any]:
        """Flush everything to the receiver; the spans the SDK finished."""
        assert self.provider.force_flush(30_000)
        self.provider.shutdown()
        return list(self.memory.get_finished_spans())

"""The receiver's protobuf-to-OTLP/JSON mapping equals protobuf's own JSON mapping
(``json_format`` with integer enums) with the OTLP id rule (hex, not base64), on every kind
of value a span can carry."""

from __future__ import annotations

import base64
import math
import os
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from ingest.otlp_receiver import proto_json


def reference(request: ExportTraceServiceRequest) -> dict[str, Any]:
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for rs in document.get("resourceSpans", ()):
        for ss in rs.get("scopeSpans", ()):
            for span in ss.get("spans", ()):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
                for link in span.get("links", ()):
                    for key in ("traceId", "spanId"):
                        if key in link:
                            link[key] = base64.b64decode(link[key]).hex()
    return document


def every_value() -> list[KeyValue]:
    return [
        KeyValue(key="s", value=AnyValue(string_value="héllo")),
        KeyValue(key="empty string", value=AnyValue(string_value="")),
        KeyValue(key="i", value=AnyValue(int_value=-(2**63))),
        KeyValue(key="zero", value=AnyValue(int_value=0)),
        KeyValue(key="b", value=AnyValue(bool_value=False)),
        KeyValue(key="d", value=AnyValue(double_value=0.1)),
        KeyValue(key="nan", value=AnyValue(double_value=math.nan)),
        KeyValue(key="inf", value=AnyValue(double_value=-math.inf)),
        KeyValue(key="bytes", value=AnyValue(bytes_value=b"\x00\xff")),
        KeyValue(
            key="array", value=AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue()]))
        ),
        KeyValue(key="empty array", value=AnyValue(array_value=ArrayValue())),
        KeyValue(
            key="kvlist",
            value=AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key="nested", value=AnyValue(string_value="x"))])
            ),
        ),
        KeyValue(key="unset value"),
        KeyValue(key="set but empty", value=AnyValue()),
        KeyValue(value=AnyValue(string_value="no key")),
    ]


def rich_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
    rs.resource.attributes.extend(every_value())
    rs.resource.dropped_attributes_count = 2
    ss = rs.scope_spans.add(schema_url="scope-schema")
    ss.scope.name, ss.scope.version = "lib", "1.2"
    ss.scope.attributes.add(key="scope.attr").value.bool_value = True
    span = ss.spans.add(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        parent_span_id=os.urandom(8),
        trace_state="vendor=1",
        flags=768,
        name="everything",
        kind=5,
        start_time_unix_nano=2**63 + 5,
        end_time_unix_nano=2**64 - 1,
        dropped_attributes_count=1,
        dropped_events_count=3,
        dropped_links_count=4,
    )
    span.attributes.extend(every_value())
    event = span.events.add(time_unix_nano=17, name="exception", dropped_attributes_count=1)
    event.attributes.add(key="exception.escaped").value.string_value = "True"
    span.events.add()
    link = span.links.add(trace_id=os.urandom(16), span_id=os.urandom(8), trace_state="t", flags=256)
    link.attributes.add(key="l").value.int_value = 7
    span.links.add(dropped_attributes_count=9)
    span.status.code = 2
    span.status.message = "boom"
    bare = ss.spans.add(trace_id=os.urandom(16), span_id=os.urandom(8))  # no status, no kind
    assert not bare.HasField("status")
    ss.spans.add(trace_id=os.urandom(16), span_id=os.urandom(8)).status.SetInParent()  # "status": {}
    request.resource_spans.add().scope_spans.add().spans.add(trace_id=os.urandom(16), span_id=os.urandom(8))
    return request


def test_the_fast_mapping_is_protobufs_own_with_hex_ids() -> None:
    assert proto_json.FAST_SPANS  # else every span takes the json_format path below
    request = rich_request()
    document, kept, rejected = proto_json.request_to_json(request)
    assert (kept, rejected.count) == (4, 0)
    assert document == reference(request)


def test_the_json_format_path_gives_the_same_document() -> None:
    request = rich_request()
    fast = [proto_json.span_to_json(s) for s in request.resource_spans[0].scope_spans[0].spans]
    slow = [proto_json._slow_span(s) for s in request.resource_spans[0].scope_spans[0].spans]
    assert fast == slow


@pytest.mark.parametrize(
    ("trace_id", "span_id", "reason"),
    [
        (bytes(16), b"\x01" * 8, "traceId is not 16 bytes, or is all zero"),
        (b"\x01" * 8, b"\x01" * 8, "traceId is not 16 bytes, or is all zero"),
        (b"\x01" * 16, bytes(8), "spanId is not 8 bytes, or is all zero"),
        (b"\x01" * 16, b"", "spanId is not 8 bytes, or is all zero"),
    ],
)
def test_spans_with_invalid_ids_are_left_out_with_their_scope(
    trace_id: bytes, span_id: bytes, reason: str
) -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(trace_id=trace_id, span_id=span_id, name="bad")
    good = (
        request.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x02" * 16, span_id=b"\x02" * 8)
    )
    document, kept, rejected = proto_json.request_to_json(request)
    assert (kept, rejected.count, rejected.reason) == (1, 1, f"a span's {reason}")
    assert [rs["scopeSpans"][0]["spans"][0]["spanId"] for rs in document["resourceSpans"]] == [
        good.span_id.hex()
    ]

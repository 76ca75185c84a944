"""An OTLP/HTTP protobuf trace request as its OTLP/JSON form (the dict one spool line holds).

The OTLP JSON mapping is protobuf's JSON mapping with three differences: trace and span ids
are hex (protobuf's generic mapping writes base64), enums are integers, and keys are
lowerCamelCase; 64-bit integers are decimal strings and fields at their default value are
left out, as in protobuf's own mapping. ``json_format.MessageToDict`` with
``use_integers_for_enums=True`` plus an id fix-up gives exactly that, but walks descriptors in
Python (about 90 us a span). Spans are the many: they are mapped here field by field (about
a tenth of that); resources and scopes, a few a request, go through ``json_format``, so a
field added to them by a newer opentelemetry-proto is never dropped. If a newer
opentelemetry-proto adds a field to a span, event, link, status or attribute value, the
span fast path is off and every span goes through ``json_format`` too (``FAST_SPANS``).

Spans whose trace or span id is not 16 / 8 bytes, or all zero (invalid per the OTLP spec),
are left out and counted, for the response's ``partial_success``.
"""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

_KNOWN_FIELDS = {
    trace_pb2.Span: {
        "trace_id", "span_id", "trace_state", "parent_span_id", "flags", "name", "kind",
        "start_time_unix_nano", "end_time_unix_nano", "attributes", "dropped_attributes_count",
        "events", "dropped_events_count", "links", "dropped_links_count", "status",
    },
    trace_pb2.Span.Event: {"time_unix_nano", "name", "attributes", "dropped_attributes_count"},
    trace_pb2.Span.Link: {
        "trace_id", "span_id", "trace_state", "attributes", "dropped_attributes_count", "flags",
    },
    trace_pb2.Status: {"message", "code"},
    # the *_strindex fields (1.40 on) index a profiles dictionary; traces leave them unset
    common_pb2.KeyValue: {"key", "value", "key_strindex"},
    common_pb2.AnyValue: {
        "string_value", "bool_value", "int_value", "double_value", "array_value", "kvlist_value",
        "bytes_value", "string_value_strindex",
    },
}  # fmt: skip
FAST_SPANS = all({f.name for f in cls.DESCRIPTOR.fields} <= names for cls, names in _KNOWN_FIELDS.items())
_KEY_STRINDEX = "key_strindex" in common_pb2.KeyValue.DESCRIPTOR.fields_by_name

ZERO_TRACE_ID = bytes(16)
ZERO_SPAN_ID = bytes(8)


class Rejected:
    """Spans left out of one request, and why (the first reason, as the spec's message)."""

    __slots__ = ("count", "reason")

    def __init__(self) -> None:
        self.count = 0
        self.reason = ""

    def add(self, reason: str) -> None:
        self.count += 1
        if not self.reason:
            self.reason = reason


def valid_ids(trace_id: bytes, span_id: bytes) -> str | None:
    """Why a span's ids are invalid, or None."""
    if len(trace_id) != 16 or trace_id == ZERO_TRACE_ID:
        return "a span's traceId is not 16 bytes, or is all zero"
    if len(span_id) != 8 or span_id == ZERO_SPAN_ID:
        return "a span's spanId is not 8 bytes, or is all zero"
    return None


def request_to_json(request: ExportTraceServiceRequest) -> tuple[dict[str, Any], int, Rejected]:
    """The request's OTLP/JSON form, the number of spans kept, and those left out.
    Scopes and resources whose spans were all left out are dropped with them."""
    rejected = Rejected()
    kept = 0
    resource_spans: list[dict[str, Any]] = []
    for rs in request.resource_spans:
        scopes: list[dict[str, Any]] = []
        for ss in rs.scope_spans:
            spans = []
            for span in ss.spans:
                problem = valid_ids(span.trace_id, span.span_id)
                if problem is not None:
                    rejected.add(problem)
                    continue
                spans.append(span_to_json(span))
            if not spans:
                continue
            kept += len(spans)
            scope: dict[str, Any] = {}
            if ss.HasField("scope"):
                scope["scope"] = _message(ss.scope)
            scope["spans"] = spans
            if ss.schema_url:
                scope["schemaUrl"] = ss.schema_url
            scopes.append(scope)
        if not scopes:
            continue
        entry: dict[str, Any] = {}
        if rs.HasField("resource"):
            entry["resource"] = _message(rs.resource)
        entry["scopeSpans"] = scopes
        if rs.schema_url:
            entry["schemaUrl"] = rs.schema_url
        resource_spans.append(entry)
    return {"resourceSpans": resource_spans}, kept, rejected


def _message(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, use_integers_for_enums=True)


def span_to_json(span: trace_pb2.Span) -> dict[str, Any]:
    if not FAST_SPANS:
        return _slow_span(span)
    out: dict[str, Any] = {"traceId": span.trace_id.hex(), "spanId": span.span_id.hex()}
    if span.trace_state:
        out["traceState"] = span.trace_state
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id.hex()
    if span.flags:
        out["flags"] = span.flags
    if span.name:
        out["name"] = span.name
    if span.kind:
        out["kind"] = span.kind
    if span.start_time_unix_nano:
        out["startTimeUnixNano"] = str(span.start_time_unix_nano)
    if span.end_time_unix_nano:
        out["endTimeUnixNano"] = str(span.end_time_unix_nano)
    if span.attributes:
        out["attributes"] = _attributes(span.attributes)
    if span.dropped_attributes_count:
        out["droppedAttributesCount"] = span.dropped_attributes_count
    if span.events:
        out["events"] = [_event(e) for e in span.events]
    if span.dropped_events_count:
        out["droppedEventsCount"] = span.dropped_events_count
    if span.links:
        out["links"] = [_link(link) for link in span.links]
    if span.dropped_links_count:
        out["droppedLinksCount"] = span.dropped_links_count
    if span.HasField("status"):
        status = span.status
        st: dict[str, Any] = {}
        if status.message:
            st["message"] = status.message
        if status.code:
            st["code"] = status.code
        out["status"] = st
    return out


def _slow_span(span: trace_pb2.Span) -> dict[str, Any]:
    out = _message(span)
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in out:
            out[key] = base64.b64decode(out[key]).hex()
    for link in out.get("links", ()):
        for key in ("traceId", "spanId"):
            if key in link:
                link[key] = base64.b64decode(link[key]).hex()
    return out


def _event(event: trace_pb2.Span.Event) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event.time_unix_nano:
        out["timeUnixNano"] = str(event.time_unix_nano)
    if event.name:
        out["name"] = event.name
    if event.attributes:
        out["attributes"] = _attributes(event.attributes)
    if event.dropped_attributes_count:
        out["droppedAttributesCount"] = event.dropped_attributes_count
    return out


def _link(link: trace_pb2.Span.Link) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if link.trace_id:
        out["traceId"] = link.trace_id.hex()
    if link.span_id:
        out["spanId"] = link.span_id.hex()
    if link.trace_state:
        out["traceState"] = link.trace_state
    if link.attributes:
        out["attributes"] = _attributes(link.attributes)
    if link.dropped_attributes_count:
        out["droppedAttributesCount"] = link.dropped_attributes_count
    if link.flags:
        out["flags"] = link.flags
    return out


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    out = []
    for kv in attributes:  # the hot loop: strings and integers inline, no HasField unless needed
        value = kv.value
        which = value.WhichOneof("value")
        if which == "string_value":
            entry: dict[str, Any] = {"key": kv.key, "value": {"stringValue": value.string_value}}
        elif which == "int_value":
            entry = {"key": kv.key, "value": {"intValue": str(value.int_value)}}
        else:
            entry = {"key": kv.key} if kv.key else {}
            if which is not None or kv.HasField("value"):
                entry["value"] = _any_value(value)
        if not entry.get("key", True):
            del entry["key"]  # an empty key is a default, left out
        if _KEY_STRINDEX and kv.key_strindex:
            entry["keyStrindex"] = kv.key_strindex
        out.append(entry)
    return out


def _any_value(value: common_pb2.AnyValue) -> dict[str, Any]:
    which = value.WhichOneof("value")
    if which == "string_value":
        return {"stringValue": value.string_value}
    if which == "int_value":
        return {"intValue": str(value.int_value)}
    if which == "bool_value":
        return {"boolValue": value.bool_value}
    if which == "double_value":
        return {"doubleValue": _double(value.double_value)}
    if which == "array_value":
        array = value.array_value
        return {"arrayValue": {"values": [_any_value(v) for v in array.values]} if array.values else {}}
    if which == "kvlist_value":
        kvlist = value.kvlist_value
        return {"kvlistValue": {"values": _attributes(kvlist.values)} if kvlist.values else {}}
    if which == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    if which == "string_value_strindex":
        return {"stringValueStrindex": value.string_value_strindex}
    return {}


def _double(number: float) -> float | str:
    """As protobuf's JSON mapping writes a double: NaN and the infinities as strings."""
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    return number

"""One OTLP/HTTP trace request body, checked and decoded: its content type, its encoding,
its size, and its spans as OTLP/JSON.

What the OTLP/HTTP spec prescribes for a body we cannot take: 415 for a content type other
than ``application/x-protobuf`` or ``application/json`` (or an encoding other than gzip or
deflate),
413 for a body over the limit, 400 with a message for one that does not decode. The size
limit holds for the body as sent and again as it inflates: gzip is inflated in bounded
steps, so a small bomb is refused at the limit, never inflated whole.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

import orjson

from ingest.otlp_receiver.proto_json import Rejected, request_to_json, valid_ids

# Like the OpenTelemetry Collector's default max_request_body_size.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class BadRequest(Exception):
    """A request refused with an HTTP status and a message for the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def content_kind(content_type: str | None) -> str:
    """``PROTOBUF`` or ``JSON`` from a Content-Type header (parameters ignored), else 415."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in (PROTOBUF, JSON):
        return kind
    shown = kind or "none"
    raise BadRequest(415, f"unsupported Content-Type {shown!r}: send {PROTOBUF} or {JSON}")


def inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body without its Content-Encoding (``gzip``, ``deflate``, which the Python SDK
    also offers, or none), at most ``limit`` bytes."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    wbits = _WBITS.get(encoding)
    if wbits is None:
        raise BadRequest(415, f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or none")
    out: list[bytes] = []
    size = 0
    rest = body
    try:
        while rest:  # gzip members one after another are one body
            inflater = zlib.decompressobj(wbits)
            chunk = inflater.decompress(rest, limit + 1 - size)
            while True:
                size += len(chunk)
                if size > limit:
                    raise BadRequest(413, f"the request inflates to more than {limit:,} bytes")
                out.append(chunk)
                if not inflater.unconsumed_tail:
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, limit + 1 - size)
            if not inflater.eof:
                raise BadRequest(400, f"the {encoding} body is truncated")
            rest = inflater.unused_data
    except zlib.error as exc:
        raise BadRequest(400, f"the body is not valid {encoding}: {exc}") from None
    return b"".join(out)


def decode(body: bytes, kind: str) -> tuple[dict[str, Any], int, Rejected]:
    """The request's OTLP/JSON form, the number of spans kept and the spans left out."""
    if kind == PROTOBUF:
        return _decode_protobuf(body)
    return _decode_json(body)


def _decode_protobuf(body: bytes) -> tuple[dict[str, Any], int, Rejected]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise BadRequest(400, f"the body is not an ExportTraceServiceRequest in protobuf: {exc}") from None
    return request_to_json(request)


def _decode_json(body: bytes) -> tuple[dict[str, Any], int, Rejected]:
    """Parsed, checked to have the request's shape, ids normalised to lower-case hex (ids
    in base64, as protobuf's generic JSON mapping writes them, are turned into hex). Fields
    we do not know are kept as sent."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(400, f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest(400, "the body is not an ExportTraceServiceRequest: not a JSON object")
    rejected = Rejected()
    kept = 0
    resource_spans = _list(document, "resourceSpans", "the request")
    kept_resources = []
    for r_index, rs in enumerate(resource_spans):
        where = f"resourceSpans[{r_index}]"
        if not isinstance(rs, dict):
            raise BadRequest(400, f"{where} is not an object")
        kept_scopes = []
        for s_index, ss in enumerate(_list(rs, "scopeSpans", where)):
            if not isinstance(ss, dict):
                raise BadRequest(400, f"{where}.scopeSpans[{s_index}] is not an object")
            spans = []
            for span in _list(ss, "spans", f"{where}.scopeSpans[{s_index}]"):
                problem = _fix_ids(span)
                if problem is None:
                    spans.append(span)
                else:
                    rejected.add(problem)
            if spans:
                ss["spans"] = spans
                kept += len(spans)
                kept_scopes.append(ss)
        if kept_scopes:
            rs["scopeSpans"] = kept_scopes
            kept_resources.append(rs)
    document["resourceSpans"] = kept_resources
    return document, kept, rejected


def _list(parent: dict[str, Any], key: str, where: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(400, f"{where}: {key} is not an array")
    return value


def _fix_ids(span: Any) -> str | None:
    """Normalise a JSON span's ids in place; why it is invalid, or None."""
    if not isinstance(span, dict):
        return "a span is not an object"
    trace_id = _id_bytes(span.get("traceId"))
    span_id = _id_bytes(span.get("spanId"))
    if trace_id is None or span_id is None:
        return "a span's traceId or spanId is missing or not hex"
    problem = valid_ids(trace_id, span_id)
    if problem is not None:
        return problem
    span["traceId"] = trace_id.hex()
    span["spanId"] = span_id.hex()
    parent = span.get("parentSpanId")
    if parent:
        parent_id = _id_bytes(parent)
        if parent_id is None:
            return "a span's parentSpanId is not hex"
        span["parentSpanId"] = parent_id.hex()
    for link in span.get("links") or ():
        if isinstance(link, dict):
            for key in ("traceId", "spanId"):
                value = _id_bytes(link.get(key))
                if value is not None:
                    link[key] = value.hex()
    return None


def _id_bytes(value: Any) -> bytes | None:
    """An id's bytes from hex (the OTLP JSON mapping) or base64 (protobuf's generic one)."""
    if not isinstance(value, str):
        return None
    if len(value) in (32, 16):
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    if len(value) in (24, 12):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None

"""Response bodies as the OTLP/HTTP spec gives them, in the request's own encoding.

Success: an ExportTraceServiceResponse, with ``partial_success`` when spans were left out
(how many, and why). Failure (4xx, 5xx): a ``google.rpc.Status``, whose two fields we
write by hand (code 1, message 2) rather than import googleapis-common-protos for them.
"""

from __future__ import annotations

import orjson

from ingest.otlp_receiver.request_body import PROTOBUF

# google.rpc.Code for each status we send
RPC_CODES = {400: 3, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 500: 13, 503: 14}


def success(kind: str, rejected_spans: int = 0, message: str = "") -> bytes:
    if kind == PROTOBUF:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        response = ExportTraceServiceResponse()
        if rejected_spans:
            response.partial_success.rejected_spans = rejected_spans
            response.partial_success.error_message = message
        return response.SerializeToString()
    if not rejected_spans:
        return b"{}"
    return orjson.dumps({"partialSuccess": {"rejectedSpans": str(rejected_spans), "errorMessage": message}})


def failure(kind: str, status: int, message: str) -> bytes:
    code = RPC_CODES.get(status, 2)
    if kind == PROTOBUF:
        text = message.encode("utf-8")
        return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text
    return orjson.dumps({"code": code, "message": message})


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)

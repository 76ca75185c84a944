"""OTLP/JSON (``ExportTraceServiceRequest`` / ``TracesData``) decoded into plain spans.

The OTLP JSON mapping differs from protobuf's generic one: ids are hex, enums integers,
64-bit integers decimal strings. Files written with protobuf's ``MessageToJson`` have base64
ids and enum names instead; both are accepted (and numbers where strings are expected).
Unknown fields are ignored. A value of the wrong shape is skipped with a warning naming the
line, never a failed file.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")
_KIND_NAMES = {f"SPAN_KIND_{name.upper()}": i for i, name in enumerate(SPAN_KINDS)}
_STATUS_NAMES = {f"STATUS_CODE_{name.upper()}": i for i, name in enumerate(STATUS_CODES)}
_HEX = frozenset("0123456789abcdef")


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int
    start_ns: int | None
    end_ns: int | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    status_code: int
    status_message: str | None
    resource: dict[str, Any]  # the resource's attributes
    scope: dict[str, Any]  # name, version (and attributes when given)
    line: int = 0


def otlp_id(value: Any, size: int) -> str | None:
    """A trace (16 bytes) or span (8 bytes) id as lower-case hex; base64 accepted."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == size * 2 and _HEX.issuperset(value):
        return value  # already lower-case hex: the OTLP/JSON mapping, and every spool line
    text = value.lower()
    if len(text) == size * 2 and _HEX.issuperset(text):
        return text
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value  # neither: kept as written, so spans still group by it
    return raw.hex() if len(raw) == size else value


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def any_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain value (bytes stay base64 text)."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        number = as_int(value["intValue"])
        return value["intValue"] if number is None else number
    if "boolValue" in value:
        return value["boolValue"]
    if "doubleValue" in value:
        double = value["doubleValue"]
        return (
            float(double)
            if isinstance(double, str) and double.lstrip("-").replace(".", "", 1).isdigit()
            else double
        )
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return [any_value(item) for item in items] if isinstance(items, list) else items
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values"))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(items: Any) -> dict[str, Any]:
    """A ``KeyValue`` list as a dict (the last of repeated keys wins, as the SDKs do)."""
    if not isinstance(items, list):
        return {}
    found: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict):
            key = item.get("key")
            if isinstance(key, str):
                value = item.get("value")
                # Most values are strings: taken here without a call (as any_value takes them).
                found[key] = (
                    value["stringValue"]
                    if isinstance(value, dict) and "stringValue" in value
                    else any_value(value)
                )
    return found


def _enum(value: Any, names: dict[str, int]) -> int:
    if isinstance(value, str):
        return names.get(value, as_int(value) or 0)
    return as_int(value) or 0


def _ns(value: Any) -> int | None:
    """A time in ns: as_int, decimal text (the OTLP/JSON mapping's) taken first."""
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            return None
    return as_int(value)


def _span(raw: dict[str, Any], resource: dict[str, Any], scope: dict[str, Any], line: int) -> Span | None:
    get = raw.get
    trace_id, span_id = otlp_id(get("traceId"), 16), otlp_id(get("spanId"), 8)
    if trace_id is None or span_id is None:
        return None
    status = get("status")
    if not isinstance(status, dict):
        status = {}
    message = status.get("message")
    events = []
    for event in get("events") or ():
        if isinstance(event, dict):
            events.append(
                {
                    "time_ns": as_int(event.get("timeUnixNano")),
                    "name": event.get("name") if isinstance(event.get("name"), str) else "",
                    "attributes": attributes(event.get("attributes")),
                }
            )
    links = [
        {"trace_id": otlp_id(link.get("traceId"), 16), "span_id": otlp_id(link.get("spanId"), 8)}
        | ({"attributes": attributes(link["attributes"])} if link.get("attributes") else {})
        for link in get("links") or ()
        if isinstance(link, dict)
    ]
    name, kind, code = get("name"), get("kind"), status.get("code")
    return Span(
        trace_id,
        span_id,
        otlp_id(get("parentSpanId"), 8),
        name if isinstance(name, str) else "",
        kind if type(kind) is int else _enum(kind, _KIND_NAMES),  # ints as the mapping writes them
        _ns(get("startTimeUnixNano")),
        _ns(get("endTimeUnixNano")),
        attributes(get("attributes")),
        events,
        links,
        0 if code is None else code if type(code) is int else _enum(code, _STATUS_NAMES),
        message if isinstance(message, str) and message else None,
        resource,
        scope,
        line,
    )


def is_traces(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceSpans"), list)


def spans_of(value: Any, line: int, warnings: list[str], where: str) -> list[Span]:
    """Every span of one request; a malformed part is skipped with a warning."""
    found: list[Span] = []
    skipped = 0
    for resource_spans in value.get("resourceSpans") or ():
        if not isinstance(resource_spans, dict):
            skipped += 1
            continue
        resource = resource_spans.get("resource")
        resource_attrs = attributes(resource.get("attributes")) if isinstance(resource, dict) else {}
        for scope_spans in (
            resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or ()
        ):
            if not isinstance(scope_spans, dict):
                skipped += 1
                continue
            raw_scope = scope_spans.get("scope") or scope_spans.get("instrumentationLibrary") or {}
            scope = {
                k: raw_scope[k]
                for k in ("name", "version")
                if isinstance(raw_scope, dict) and raw_scope.get(k)
            }
            if isinstance(raw_scope, dict) and raw_scope.get("attributes"):
                scope["attributes"] = attributes(raw_scope["attributes"])
            for raw in scope_spans.get("spans") or ():
                span = _span(raw, resource_attrs, scope, line) if isinstance(raw, dict) else None
                if span is None:
                    skipped += 1
                else:
                    found.append(span)
    if skipped:
        warnings.append(f"{where}:{line}: skipped {skipped} span(s) without a trace or span id")
    return found

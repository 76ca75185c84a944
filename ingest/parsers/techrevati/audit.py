"""techrevati-runtime 0.4 audit-log exports (``AuditLogSink.export(fmt="jsonl")``).

One line per audit record: ``{sequence, timestamp, event_type, payload, prev_hash,
record_hash, signature?}``. Payloads are AgentEvent dicts, or ``{model, cost_usd, usage}``
for ``event_type == "usage.recorded"``; they are grouped into runs like any event stream
(:mod:`ingest.parsers.techrevati.stream`). The hash chain is re-computed the package's way
(``sha256(prev_hash + canonical JSON)``) and its state kept in the run attributes; a
signature cannot be checked without the key.
"""

from __future__ import annotations

from typing import Any

from core.records import ParsedFile
from ingest.content import Content, line_values
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import FRAMEWORK, chain_state, is_agent_event, is_usage_record
from ingest.parsers.techrevati.stream import stream_records
from ingest.spec import FormatSpec

NAME = "techrevati.audit"
AUDIT_KEYS = frozenset({"sequence", "timestamp", "event_type", "payload", "prev_hash", "record_hash"})


def is_audit_record(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() >= AUDIT_KEYS


def detect(content: Content) -> bool:
    return is_audit_record(content.first_value)


def audit_items(
    records: list[tuple[str, dict[str, Any]]], warnings: list[str], where: str
) -> list[tuple[str, dict[str, Any], Any]]:
    """Audit records as stream items (payloads, with the audit timestamp as a fallback time);
    payloads that are neither an AgentEvent nor a usage record are skipped with a warning."""
    items = []
    for native_id, record in records:
        payload = record["payload"]
        if is_agent_event(payload) or is_usage_record(payload):
            items.append((native_id, payload, record.get("timestamp")))
        else:
            warnings.append(
                f"{where}: audit record {record.get('sequence')} ({record.get('event_type')}) "
                "is neither an AgentEvent nor a usage record; kept in the chain only"
            )
    return items


def parse(content: Content) -> ParsedFile:
    records: list[tuple[str, dict[str, Any]]] = []
    for number, value in line_values(content):
        if not is_audit_record(value) or not isinstance(value["payload"], dict):
            raise ParseError(
                content.path, "not a techrevati audit record (sequence, event_type, payload, hashes)", number
            )
        records.append((f"audit:{value['sequence']}", value))
    warnings: list[str] = []
    runs, events = stream_records(
        str(content.path), audit_items(records, warnings, str(content.path)), warnings=warnings
    )
    chain = chain_state([record for _, record in records])
    for run in runs:
        run.attributes["audit_chain"] = chain
    if not chain["verified"]:
        warnings.append(
            f"{content.path}: audit hash chain does not verify at sequence {chain['first_bad_sequence']}"
        )
    return ParsedFile(format=NAME, runs=runs, events=events, warnings=warnings)


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime 0.4 audit-log JSONL exports (hash-chained events and usage)",
    detect=detect,
    parse=parse,
)

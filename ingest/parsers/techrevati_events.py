"""techrevati-runtime AgentEvent documents: a JSON array (or one object) of
``AgentEvent.to_dict()`` and JSON Lines of ``to_json()``, possibly with the usage records of
a sink that is both an EventSink and a UsageSink interleaved.

The package writes no event file itself; whatever sink wrote the file, the events are
grouped into runs by the rule of :mod:`ingest.parsers.techrevati_stream` (by file, then
role/phase/project_id). Line numbers are kept as event ids, so an appended tail adds
events without renumbering the ones already loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.techrevati_common import FRAMEWORK, is_agent_event, is_usage_record
from ingest.parsers.techrevati_stream import OpenSession, open_session, stream_records
from ingest.registry import FormatSpec
from ingest.regular_file import lines_before

NAME = "techrevati.events"


def _values(content: Content) -> list[tuple[str, Any]]:
    if content.kind == "jsonl":
        for number, message in content.bad_lines:
            raise ParseError(content.path, message, number)
        return [(f"L{line.number}", line.value) for line in content.lines]
    if isinstance(content.json, list):
        return [(f"#{index}", value) for index, value in enumerate(content.json)]
    return [(f"L{content.first_line}", content.json)]


def detect(content: Content) -> bool:
    if content.kind == "jsonl":
        return any(is_agent_event(line.value) for line in content.lines)
    doc = content.json if content.kind == "json" else None
    if isinstance(doc, list):
        return bool(doc) and is_agent_event(doc[0])
    return is_agent_event(doc)


def open_session_before(content: Content) -> OpenSession | None:
    """The session open where a tail read starts (``content.offset``), from the lines
    before it read backwards up to that session's start (not the whole file again)."""

    def values() -> Iterator[Any]:
        for raw in lines_before(content.path, content.offset):
            try:
                yield orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue

    try:
        return open_session(values())
    except OSError:
        return None


def parse_stream(content: Content, name: str) -> ParsedFile:
    """AgentEvents and usage records in file order, grouped into runs (shared with the
    usage-only format, so a usage file that later gains events keeps its run ids)."""
    items = []
    for native_id, value in _values(content):
        if not (is_agent_event(value) or is_usage_record(value)):
            line = int(native_id[1:]) if native_id.startswith("L") else None
            where = "" if line else f" (element {native_id[1:]})"
            raise ParseError(content.path, f"not a techrevati AgentEvent or usage record{where}", line)
        items.append((native_id, value, None))
    before = open_session_before(content) if content.offset > 0 else None
    runs, events = stream_records(str(content.path), items, before)
    return ParsedFile(format=name, runs=runs, events=events)


def parse(content: Content) -> ParsedFile:
    return parse_stream(content, NAME)


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime AgentEvent arrays and JSON Lines (with interleaved usage records)",
    detect=detect,
    parse=parse,
    append_only=True,
)

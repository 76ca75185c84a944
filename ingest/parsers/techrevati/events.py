"""techrevati-runtime AgentEvent documents: a JSON array (or one object) of
``AgentEvent.to_dict()`` and JSON Lines of ``to_json()``, possibly with the usage records of
a sink that is both an EventSink and a UsageSink interleaved.

The package writes no event file itself; whatever sink wrote the file, the events are
grouped into runs by the rule of :mod:`ingest.parsers.techrevati.stream` (by file, then
role/phase/project_id). Line numbers are kept as event ids, so an appended tail adds
events without renumbering the ones already loaded.
"""

from __future__ import annotations

from core.records import ParsedFile
from ingest.content import Content
from ingest.parsers.techrevati.common import FRAMEWORK, is_agent_event
from ingest.parsers.techrevati.stream import parse_stream
from ingest.spec import FormatSpec

NAME = "techrevati.events"


def detect(content: Content) -> bool:
    if content.kind == "jsonl":
        # "emitted_at" first: is_agent_event requires it, and the lines of other formats lack it
        return any(
            isinstance(line.value, dict) and "emitted_at" in line.value and is_agent_event(line.value)
            for line in content.lines
        )
    doc = content.json if content.kind == "json" else None
    if isinstance(doc, list):
        return bool(doc) and is_agent_event(doc[0])
    return is_agent_event(doc)


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

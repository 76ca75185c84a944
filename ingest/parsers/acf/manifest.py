"""agent-checkpoint-framework 0.3.0 agent manifests: who can continue a task.

Kept so that a resume export can suggest agents whose capabilities match an
``executor_hint`` of ``capability:<x>``.
"""

from __future__ import annotations

from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.spec import FormatSpec


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    return (
        isinstance(doc, dict)
        and {"ac_version", "agent_id", "capabilities"} <= doc.keys()
        and "checkpoint_id" not in doc
    )


def parse(content: Content) -> ParsedFile:
    doc = content.json
    if not isinstance(doc["agent_id"], str) or not doc["agent_id"].strip():
        raise ParseError(content.path, "manifest field 'agent_id' must be a non-empty string")
    if not isinstance(doc["capabilities"], list):
        raise ParseError(content.path, "manifest field 'capabilities' must be a list of strings")
    return ParsedFile(format="acf.manifest", manifests=[dict(doc)])


FORMAT = FormatSpec(
    name="acf.manifest",
    framework="acf",
    description="agent-checkpoint-framework 0.3.0 agent manifests",
    detect=detect,
    parse=parse,
)

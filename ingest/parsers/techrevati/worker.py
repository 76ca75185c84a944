"""techrevati-runtime AgentWorker dumps: one ``AgentWorker.to_dict()`` or a registry list.

A worker is one session's agent (``worker_id = <role>-<phase>-<8 hex>``), so it is a run of
its own, keyed by ``worker_id``; a session summary of the same worker adds to that run.
Its transitions (``events[]: seq, kind, status, timestamp, detail?``) become lifecycle
events. Nothing links a worker to an event stream (events carry no worker id).
"""

from __future__ import annotations

from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import FRAMEWORK, is_worker, worker_records
from ingest.spec import FormatSpec

NAME = "techrevati.worker"
RULE = "a worker dump names its worker: one run per worker_id"


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    if isinstance(doc, list):
        return bool(doc) and is_worker(doc[0])
    return is_worker(doc)


def parse(content: Content) -> ParsedFile:
    doc = content.json
    workers = doc if isinstance(doc, list) else [doc]
    parsed = ParsedFile(format=NAME)
    for index, worker in enumerate(workers):
        if not is_worker(worker):
            raise ParseError(content.path, f"element {index} is not an AgentWorker dump")
        run, events = worker_records(worker, str(content.path), RULE)
        parsed.runs.append(run)
        parsed.events.extend(events)
    return parsed


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime AgentWorker dumps (one worker or a registry list)",
    detect=detect,
    parse=parse,
)

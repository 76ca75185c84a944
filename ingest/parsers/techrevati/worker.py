"""techrevati-runtime AgentWorker dumps: one ``AgentWorker.to_dict()`` or a registry list.

A worker is one session's agent (``worker_id = <role>-<phase>-<8 hex>``), keyed by
``worker_id``; its transitions (``events[]: seq, kind, status, timestamp, detail?``) become
lifecycle events. Events carry no worker id, and a worker holds no time its session's events
hold (it is created just before the session's first event; its last transition comes just
before the session's last event), so the worker cannot name its session's run. It joins it in
the store instead (``RunRecord.join_keys``, ``core.store.joins``): the run of a session of its
(role, phase, project_id), or of its (role, phase) without a project (0.1 events stamp none),
whose sources' time window overlaps the worker's (``created_at`` to ``updated_at``, open while
it runs). A worker that never ran (``idle``, a handoff target left ``initializing``) joins
nothing, nor does one whose session no file holds: the run ``worker_id``.
"""

from __future__ import annotations

from core.records import ParsedFile
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import FRAMEWORK, is_worker, worker_join_keys, worker_records
from ingest.spec import FormatSpec

NAME = "techrevati.worker"
RULE = (
    "a worker dump names its worker: it joins the run of a session of its (role, phase, project_id),"
    " or of its (role, phase) when the session's events name no project, whose time window overlaps the"
    " worker's (from created_at to updated_at, open while it runs); one that never ran, or whose session"
    " no file holds, is the run worker_id"
)


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
        run.join_keys = worker_join_keys(worker)
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

"""techrevati-runtime (techrevati): its formats, in the order they are tried."""

from __future__ import annotations

from ingest.parsers.techrevati import audit, events, pricing, session, store, usage, worker
from ingest.spec import FormatSpec

FORMATS: list[FormatSpec] = [
    events.FORMAT,
    audit.FORMAT,
    session.FORMAT,
    worker.FORMAT,
    usage.FORMAT,
    pricing.FORMAT,
    store.FORMAT,
]

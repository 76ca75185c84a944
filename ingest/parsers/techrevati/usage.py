"""techrevati-runtime usage records and UsageTracker snapshots.

* Usage JSONL: one ``{recorded_at, model, cost_usd, usage: UsageSnapshot}`` per
  ``UsageSink.record`` call, from a sink that records usage only. It is read like an event
  stream (:mod:`ingest.parsers.techrevati.stream`): usage names a model, never a session,
  so with no event to attach to, a file's records form the run ``<file>#unattributed``
  (status unknown). Should events follow later in the same file, the lines read so far keep
  their run and the new ones are grouped as in any stream.
* Tracker snapshot: ``{summary, per_model_cost, turns: [{model, usage}]}`` or a bare
  ``UsageTracker.summary()`` (``turns, total_input_tokens, total_output_tokens,
  total_cost_usd, formatted_cost``): one run ``<file>#usage``, tokens from the summary,
  cost from the unrounded per-model figures when present; turns carry no cost or time.

Costs are the package's own (reported); tokens are uncached input, output and cache tokens
as the package counts them.
"""

from __future__ import annotations

from typing import Any

from core.records import ParsedFile, RunRecord
from ingest.content import Content
from ingest.parsers.techrevati.common import (
    FRAMEWORK,
    is_agent_event,
    is_usage_record,
    total,
    tracker_totals,
    usage_record,
)
from ingest.parsers.techrevati.stream import parse_stream
from ingest.spec import FormatSpec

NAME = "techrevati.usage"
SUMMARY_KEYS = frozenset({"turns", "total_input_tokens", "total_output_tokens", "total_cost_usd"})
RULE = "a UsageTracker snapshot names no session: one run per file"


def _is_tracker(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    summary = doc.get("summary", doc)
    return isinstance(summary, dict) and summary.keys() >= SUMMARY_KEYS and "worker" not in doc


def detect(content: Content) -> bool:
    if content.kind == "jsonl":
        values = [line.value for line in content.lines]
        return bool(values) and is_usage_record(values[0]) and not any(is_agent_event(v) for v in values)
    doc = content.json if content.kind == "json" else None
    return is_usage_record(doc) or _is_tracker(doc)


def _parse_tracker(content: Content) -> ParsedFile:
    doc = content.json
    summary = doc.get("summary", doc)
    run_id = f"{content.path}#usage"
    turns = doc.get("turns") if isinstance(doc.get("turns"), list) else []
    events = [
        usage_record(
            run_id, {"model": t.get("model"), "usage": t["usage"], "cost_usd": None}, f"turn:{i}", None
        )
        for i, t in enumerate(turns)
        if isinstance(t, dict) and isinstance(t.get("usage"), dict)
    ]
    per_model = doc.get("per_model_cost") if isinstance(doc.get("per_model_cost"), dict) else {}
    input_tokens, output_tokens, cost = tracker_totals(summary, per_model)
    run = RunRecord(
        framework=FRAMEWORK,
        native_id=run_id,
        status="unknown",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=total([e.cache_read_tokens for e in events]),
        cache_write_tokens=total([e.cache_write_tokens for e in events]),
        cost_usd=cost,
        attributes={"grouping_rule": RULE, "source": str(content.path), "tracker_summary": summary}
        | ({"per_model_cost": per_model} if per_model else {}),
    )
    return ParsedFile(format=NAME, runs=[run], events=events)


def parse(content: Content) -> ParsedFile:
    if content.kind == "json" and _is_tracker(content.json):
        return _parse_tracker(content)
    return parse_stream(content, NAME)


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime usage records (JSONL) and UsageTracker snapshots",
    detect=detect,
    parse=parse,
    append_only=True,
)

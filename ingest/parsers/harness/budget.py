"""react-agent-harness budget snapshots: ``BudgetGuard.snapshot()`` written as JSON
(0.14 ``cost_usd, elapsed_seconds, tokens_in, tokens_out, breakdown``; 0.0.2 cost and
elapsed only).

The harness returns the snapshot and never writes it; the sample generator keeps it as
``budgets/<scenario>--<run_id>.json``, so the run id is the UUID in the file name. The
cost is the adapter's own figure (a reported cost). The breakdown is per *source*
(``classifier``, ``planner``, ``agent:<id>``...), not per model, so it stays an attribute;
calls without a source count in the totals only, so the parts may sum to less.
"""

from __future__ import annotations

from core.records import ParsedFile, RunRecord
from ingest.content import Content
from ingest.errors import ParseError
from ingest.parsers.harness import common as hc
from ingest.spec import FormatSpec

KEYS = {"cost_usd", "elapsed_seconds", "tokens_in", "tokens_out", "breakdown"}
REQUIRED = {"cost_usd", "elapsed_seconds"}


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    return isinstance(doc, dict) and REQUIRED <= doc.keys() <= KEYS


def parse(content: Content) -> ParsedFile:
    doc = content.json
    run_id = hc.run_id_in_name(content.path)
    if run_id is None:
        raise ParseError(
            content.path,
            "budget snapshot names no run: put the run id (a UUID) in the file "
            "name, e.g. <scenario>--<run_id>.json",
        )
    usage = hc.budget_usage(doc)
    if not usage:
        raise ParseError(content.path, "budget snapshot has no numeric cost_usd, tokens_in or tokens_out")
    breakdown = doc.get("breakdown") if isinstance(doc.get("breakdown"), dict) else None
    run = RunRecord(
        framework=hc.FRAMEWORK,
        native_id=run_id,
        priority=hc.PRIORITY_TRACE,
        attributes={
            "elapsed_seconds": hc.as_float(doc.get("elapsed_seconds")),
            "budget_breakdown": breakdown,
        },
    )
    for name, value in usage.items():
        setattr(run, name, value)
    agents = [source.split(":", 1)[1] for source in breakdown or {} if source.startswith("agent:")]
    run.agents = agents
    return ParsedFile(format="harness.budget", runs=[run])


FORMAT = FormatSpec(
    name="harness.budget",
    framework=hc.FRAMEWORK,
    description="react-agent-harness budget snapshots (BudgetGuard.snapshot() as JSON)",
    detect=detect,
    parse=parse,
)

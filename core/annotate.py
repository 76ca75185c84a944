"""Run rows annotated for display: cost with provenance, and for failed runs the failure
class and the last good checkpoint. The CLI and the dashboard both call ``annotate_runs``,
so a run shows the same figures everywhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from core.costs import run_costs
from core.failures import failed_runs


def annotate_runs(engine: Engine, runs: list[dict[str, Any]], book: Any = None) -> list[dict[str, Any]]:
    """Give run dicts (from ``queries.list_runs``/``queries.get_run``) their cost with provenance and, for
    failed runs, the failure class and last good checkpoint (in place; returns ``runs``).

    Adds ``cost_usd`` (priced total, None when nothing is priced; never 0 for unpriced),
    ``cost_provenance``, ``unpriced_calls``, ``unpriced_tokens``, ``failure_class`` and
    ``last_good_checkpoint`` (a checkpoint id, or None). See core.costs and core.failures.
    """
    costs = run_costs(engine, [r["id"] for r in runs], book)
    failed = [r["id"] for r in runs if r.get("status") == "failed"]
    infos = {info.run_id: info for info in failed_runs(engine, failed)} if failed else {}
    for run in runs:
        cost, info = costs.get(run["id"]), infos.get(run["id"])
        run["cost_usd"] = cost.cost_usd if cost else None
        run["cost_provenance"] = cost.provenance if cost else None
        run["unpriced_calls"] = cost.unpriced_calls if cost else 0
        run["unpriced_tokens"] = cost.unpriced_tokens if cost else 0
        run["failure_class"] = info.failure_class if info else None
        run["last_good_checkpoint"] = info.last_good_checkpoint if info else None
    return runs

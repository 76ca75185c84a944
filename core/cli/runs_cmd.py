"""``baton runs`` and ``baton show``: the runs and one run's checkpoint forest.

Run rows carry the cost with provenance (``cost_usd`` is the priced total, never $0 for
unpriced calls; ``cost_provenance``, ``unpriced_calls``) and, for failed runs, the failure
class and the last good checkpoint (``failure_class``, ``last_good_checkpoint``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy.engine import Engine

from core import queries
from core.annotate import annotate_runs
from core.cli.costs_cmd import money
from core.cli.output import add_db_option, format_time, print_json, print_table
from core.db import make_engine
from core.prices import PriceBook, load_price_book
from core.records import RUN_STATUSES

FRAMEWORKS = ("acf", "loopengt", "harness", "techrevati", "otel", "langgraph")


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--status", choices=RUN_STATUSES)
    runs.add_argument("--framework", choices=FRAMEWORKS)
    add_db_option(runs)
    runs.add_argument("--json", action="store_true", help="print a JSON array")
    runs.set_defaults(handler=list_runs)

    show = sub.add_parser("show", help="show one run with its checkpoints")
    show.add_argument("run_id", metavar="RUN_ID", help="an id from 'baton runs', or an unambiguous prefix")
    add_db_option(show)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_run)


def list_runs(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    runs = annotate_runs(
        engine, queries.list_runs(engine, status=args.status, framework=args.framework), _price_book(engine)
    )
    if args.json:
        print_json(runs)
        return 0
    if not runs:
        print("No runs. Load some with: baton ingest PATH")
        return 0
    print_table(
        (
            "id",
            "framework",
            "status",
            "agents",
            "started",
            "ended",
            "ckpts",
            "events",
            "tok in",
            "tok out",
            "cost",
            "failure",
        ),
        [
            (
                r["id"],
                r["framework"],
                r["status"],
                ",".join(r["agents"]),
                format_time(r["started_at"]),
                format_time(r["ended_at"]),
                r["checkpoints"],
                r["events"],
                r["input_tokens"],
                r["output_tokens"],
                cost_text(r),
                _failure(r),
            )
            for r in runs
        ],
        max_width=40,
    )
    return 0


def _price_book(engine: Engine) -> PriceBook:
    book = load_price_book(engine)
    for warning in book.warnings:
        print(f"baton: warning: {warning}", file=sys.stderr)
    return book


def cost_text(run: dict[str, Any]) -> str:
    """The priced cost plus the unpriced calls; never "$0" for calls without a price."""
    if run.get("cost_usd") is None and not run.get("unpriced_calls"):
        return ""
    return money(run.get("cost_usd"), run.get("unpriced_calls") or 0)


def _failure(run: dict[str, Any]) -> str | None:
    if run.get("failure_class"):
        return f"[{run['failure_class']}] {run['failure_reason'] or ''}".strip()
    return run.get("failure_reason")


def forest_lines(checkpoints: list[dict[str, Any]]) -> list[str]:
    """Checkpoints as an indented forest: roots first, children under their parent."""
    by_id = {cp["id"]: cp for cp in checkpoints}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for cp in checkpoints:
        parent = cp["parent_id"] if cp["parent_id"] in by_id else None
        children.setdefault(parent, []).append(cp)
    lines: list[str] = []
    stack = [(cp, 0, None) for cp in reversed(children.get(None, []))]
    while stack:
        cp, depth, parent_agent = stack.pop()
        handoff = (
            f"  (handoff from {parent_agent})" if parent_agent and parent_agent != cp["agent_id"] else ""
        )
        missing = "  (parent not loaded)" if cp["parent_id"] and cp["parent_id"] not in by_id else ""
        lines.append(
            f"{'  ' * depth}{'└─ ' if depth else ''}{cp['id']}  {cp['status']:<9} "
            f"{cp['agent_id'] or '-'}  {format_time(cp['created_at'])}{handoff}{missing}"
        )
        stack.extend((child, depth + 1, cp["agent_id"]) for child in reversed(children.get(cp["id"], [])))
    return lines


def _tokens(run: dict[str, Any]) -> str:
    if run["input_tokens"] is None and run["output_tokens"] is None:
        return "unknown"
    return f"{run['input_tokens'] or 0:,} in / {run['output_tokens'] or 0:,} out"


def show_run(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    run_id = queries.resolve_run_id(engine, args.run_id)
    run = annotate_runs(engine, [queries.get_run(engine, run_id)], _price_book(engine))[0]
    checkpoints = queries.run_checkpoints(engine, run_id)
    counts = queries.event_counts(engine, run_id)
    if args.json:
        print_json(run | {"checkpoints": checkpoints, "event_counts": counts})
        return 0
    print(f"run {run['id']}  ({run['framework']} {run['native_id']})")
    for label, value in (
        ("status", run["status"]),
        ("task", run["task"]),
        ("agents", ", ".join(run["agents"])),
        ("started", format_time(run["started_at"])),
        ("ended", format_time(run["ended_at"])),
        ("tokens", _tokens(run)),
        ("cost", f"{cost_text(run)} ({run['cost_provenance']})" if cost_text(run) else "unknown"),
        ("failure", _failure(run)),
        ("resume", run["last_good_checkpoint"] and f"last good checkpoint {run['last_good_checkpoint']}"),
    ):
        if value:
            print(f"  {label:<8} {value}")
    print(f"\ncheckpoints ({len(checkpoints)}):")
    for line in forest_lines(checkpoints) or ["  none"]:
        print(f"  {line}")
    print("\nevents: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    return 0

"""``baton runs``: the runs, with cost and failure.

Run rows carry the cost with provenance (``cost_usd`` is the priced total, never $0 for
unpriced calls; ``cost_provenance``, ``unpriced_calls``) and, for failed runs, the failure
class and the last good checkpoint (``failure_class``, ``last_good_checkpoint``).
"""

from __future__ import annotations

import argparse

from baton.output import (
    add_db_option,
    cost_text,
    failure_text,
    format_time,
    print_json,
    print_table,
    print_warnings,
)

HELP = "list runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.frameworks import NAMES
    from core.records import RUN_STATUSES

    parser.add_argument("--status", choices=RUN_STATUSES)
    parser.add_argument("--framework", choices=NAMES)
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def run(args: argparse.Namespace) -> int:
    from core import queries
    from core.annotate import annotate_runs
    from core.db import make_engine
    from core.prices import load_price_book

    engine = make_engine(args.db, create=False)
    book = load_price_book(engine)
    print_warnings(book.warnings)
    runs = annotate_runs(
        engine, queries.list_runs(engine, status=args.status, framework=args.framework), book
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
            "name",
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
                r["name"],
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
                failure_text(r),
            )
            for r in runs
        ],
        max_width=40,
    )
    return 0

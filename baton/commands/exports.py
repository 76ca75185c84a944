"""``baton exports``: the log of past resume exports."""

from __future__ import annotations

import argparse

from baton.output import add_db_option, format_time, print_json, print_table

HELP = "list past resume exports"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", metavar="CHECKPOINT_ID", help="only exports of this checkpoint")
    parser.add_argument("--json", action="store_true")
    add_db_option(parser)


def run(args: argparse.Namespace) -> int:
    from core import queries
    from core.db import make_engine
    from core.resume.outbox import default_outbox

    engine = make_engine(args.db, create=False)
    checkpoint = queries.resolve_checkpoint_id(engine, args.checkpoint) if args.checkpoint else None
    rows = queries.list_exports(engine, checkpoint_id=checkpoint)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(f"No exports yet. Make one with: baton resume CHECKPOINT_ID (files go to {default_outbox()})")
        return 0
    print_table(
        ("when", "checkpoint", "format", "redacted", "trimmed", "destination"),
        [
            (
                format_time(r["created_at"]),
                r["checkpoint_id"],
                r["format"],
                r["redacted"],
                "yes" if r["trimmed"] else "",
                r["destination"],
            )
            for r in rows
        ],
        max_width=80,
    )
    return 0

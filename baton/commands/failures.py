"""``baton failures``: failed runs grouped by class, normalized reason, agent or tool."""

from __future__ import annotations

import argparse

from baton.output import add_db_option, print_json, print_table

HELP = "failed runs grouped by failure class and reason"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core import failures

    parser.description = (
        "Failed runs in one taxonomy across frameworks, grouped so that the same failure "
        "counts once. Classes: " + ", ".join(failures.CLASSES) + "."
    )
    parser.add_argument(
        "--by",
        choices=failures.GROUP_BY,
        default="reason",
        help="group by class, reason (class + normalized reason; default), agent or tool",
    )
    parser.add_argument("--runs", action="store_true", help="list each failed run instead of groups")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def run(args: argparse.Namespace) -> int:
    from core import failures
    from core.db import make_engine

    infos = failures.failed_runs(make_engine(args.db, create=False))
    if args.runs:
        rows = [info.to_dict() for info in infos]
        if args.json:
            print_json(rows)
        elif not rows:
            print("No failed runs.")
        else:
            print_table(
                ("run", "framework", "class", "agent", "step", "tool", "last good ckpt", "reason"),
                [
                    (
                        r["run_id"],
                        r["framework"],
                        r["failure_class"],
                        r["agent"],
                        r["step"],
                        r["tool"],
                        r["last_good_checkpoint"],
                        r["reason"],
                    )
                    for r in rows
                ],
                max_width=60,
            )
        return 0
    groups = failures.group_failures(infos, args.by)
    if args.json:
        print_json(groups)
        return 0
    if not groups:
        print("No failed runs.")
        return 0
    label = {"class": "failure_class", "reason": "normalized_reason", "agent": "agent", "tool": "tool"}[
        args.by
    ]
    print_table(
        ("count", "class", args.by, "example runs", "example reason"),
        [
            (
                g["count"],
                ",".join(g["classes"]),
                g[label] if g[label] is not None else "(none)",
                ", ".join(g["example_runs"]),
                g["example_reason"],
            )
            for g in groups
        ],
        max_width=70,
    )
    print(f"\n{len(infos)} failed runs in {len(groups)} groups")
    return 0

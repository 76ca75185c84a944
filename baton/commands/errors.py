"""``baton errors``: files that failed to load, with the reason."""

from __future__ import annotations

import argparse

from core import queries
from core.cli.output import add_db_option, print_json
from core.db import make_engine


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("errors", help="list files that failed to load, with reasons")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    failures = queries.failed_files(make_engine(args.db))
    if args.json:
        print_json(failures)
    elif not failures:
        print("No failed files.")
    else:
        for failure in failures:
            where = failure["path"] + (f":{failure['line']}" if failure["line"] else "")
            print(f"{where}: {failure['error']}")
    return 0

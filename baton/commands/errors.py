"""``baton errors``: files that failed to load, with the reason, and the bad lines of files
that loaded around them (``path:line: skipped: reason``)."""

from __future__ import annotations

import argparse

from baton.output import add_db_option, error_line, print_json

HELP = "list files that failed to load, and bad lines skipped, with reasons"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_db_option(parser)
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from core import queries
    from core.db import make_engine

    failures = queries.failed_files(make_engine(args.db, create=False))
    if args.json:
        print_json(failures)
    elif not failures:
        print("No failed files and no bad lines.")
    else:
        for failure in failures:
            print(error_line(failure["path"], failure["line"], failure["error"]))
    return 0

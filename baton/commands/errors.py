"""``baton errors``: files that failed to load, with the reason, the bad lines of files
that loaded around them (``path:line: skipped: reason``) and the warnings of files that
loaded (``path:line: warning: text``)."""

from __future__ import annotations

import argparse

from baton.output import add_db_option, error_line, print_json

HELP = "list files that failed to load, bad lines skipped and warnings, with reasons"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_db_option(parser)
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from core import queries
    from core.db import make_engine

    engine = make_engine(args.db, create=False)
    failures = queries.failed_files(engine) + queries.file_warnings(engine)
    failures.sort(key=lambda entry: entry["path"])  # stable: a file's failure, bad lines, warnings
    if args.json:
        print_json(failures)
    elif not failures:
        print("No failed files, bad lines or warnings.")
    else:
        for failure in failures:
            print(error_line(failure["path"], failure["line"], failure["error"]))
    return 0

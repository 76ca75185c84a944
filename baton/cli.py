"""``baton``: the command line. Each command is a module registering itself in COMMANDS.

User mistakes (missing path, bad URL, unknown or ambiguous id) print one line and exit 2; a
database another process keeps locked prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import sys

from core.cli import costs_cmd, errors_cmd, failures_cmd, ingest_cmd, resume_cmd, runs_cmd, watch_cmd
from core.cli.output import printable_output
from core.db import DatabaseBusy, DatabaseURLError
from core.errors import UserError

COMMANDS = [ingest_cmd, runs_cmd, errors_cmd, resume_cmd, watch_cmd, costs_cmd, failures_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description="Inspect AI-agent runs: checkpoints, costs, failures."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with printable_output():
        try:
            return int(args.handler(args) or 0)
        except (UserError, DatabaseURLError) as exc:
            print(f"baton: {exc}", file=sys.stderr)
            return 2
        except DatabaseBusy as exc:
            print(f"baton: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("baton: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0


if __name__ == "__main__":
    sys.exit(main())

"""``baton``: the command line. The command list, the parser, and ``main()``, the one place
where errors become one line and an exit code.

User mistakes (missing path, bad URL, no database at the path a read command names, unknown
or ambiguous id) print one line and exit 2; a database another process keeps locked, or a
full disk, prints one line and exits 1; any other database error (a damaged file) prints
its first line and exits 2. Values in these lines are escaped (``baton.output.escape``).

Each command is a module in ``baton.commands`` with ``HELP``, ``add_arguments(parser)`` and
``run(args)``. A command's arguments are added only when that command is parsed or its help
is shown: some choices (cost groupings, failure classes, resume formats) live in modules that
import SQLAlchemy, and ``baton --help`` should not pay for them.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from baton.commands import costs, errors, exports, failures, ingest, otlp, resume, runs, show, watch
from baton.output import escape, printable_output
from core.errors import DatabaseBusy, DatabaseURLError, UserError, database_failure

# In the order `baton --help` lists them.
COMMANDS: dict[str, ModuleType] = {
    "ingest": ingest,
    "runs": runs,
    "show": show,
    "errors": errors,
    "resume": resume,
    "exports": exports,
    "watch": watch,
    "costs": costs,
    "failures": failures,
    "otlp": otlp,
}


class CommandParser(argparse.ArgumentParser):
    """A command's parser that adds the command's arguments the first time it parses or
    formats its help."""

    def __init__(self, *args: Any, command: ModuleType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command: ModuleType | None = command

    def _add_command_arguments(self) -> None:
        command, self._command = self._command, None
        if command is not None:
            command.add_arguments(self)
            self.set_defaults(handler=command.run)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._add_command_arguments()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_command_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_command_arguments()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description="Inspect AI-agent runs: checkpoints, costs, failures."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=CommandParser)
    for name, module in COMMANDS.items():
        sub.add_parser(name, help=module.HELP, command=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with printable_output():
        try:
            return int(args.handler(args) or 0)
        except (UserError, DatabaseURLError) as exc:
            print(f"baton: {escape(exc)}", file=sys.stderr)
            return 2
        except DatabaseBusy as exc:
            print(f"baton: {escape(exc)}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("baton: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0
        except Exception as exc:  # a database's error: one line of ours, not SQLAlchemy's chain
            failure = database_failure(exc)
            if failure is None:
                raise
            print(f"baton: {escape(failure[0])}", file=sys.stderr)
            return failure[1]


def entry() -> int:
    """The console script and ``python -m baton``: ``main()``, then an exit without the
    collector's last walk over every object (SQLAlchemy and the tables make that about 250 ms,
    a third of a short command such as ``baton runs``). Exit handlers still run and the
    operating system frees the memory. Not in ``main()``: tests call it in one process."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())

"""``baton resume CHECKPOINT_ID``: export a resume checkpoint (``baton exports`` lists them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from baton.output import add_db_option, escape, print_json

if TYPE_CHECKING:
    from core.resume.export import ExportResult

HELP = "export a resume checkpoint another agent (or the framework) can continue from"


def add_arguments(resume: argparse.ArgumentParser) -> None:
    from core.resume.options import FORMATS, RETRY_STRATEGIES
    from core.resume.trim import DEFAULT_MAX_BYTES

    resume.add_argument(
        "checkpoint_id",
        metavar="CHECKPOINT_ID",
        help="a checkpoint id as 'baton show' prints it, a native id, or an unambiguous prefix",
    )
    resume.add_argument("--agent", metavar="AGENT", help="agent that continues (default: the same agent)")
    resume.add_argument(
        "--retry-strategy",
        "--strategy",
        dest="strategy",
        choices=RETRY_STRATEGIES,
        help="default: from the failure class (rate_limit -> resume, validation_error -> restart, ...)",
    )
    resume.add_argument(
        "--executor-hint",
        "--hint",
        dest="hint",
        metavar="HINT",
        help="same, any or capability:<name> (default: from the strategy)",
    )
    resume.add_argument(
        "--format",
        choices=FORMATS,
        default="acf",
        help="acf (agent-checkpoint spec, default), prompt (a Markdown handoff brief any coding agent "
        "can start from) or the source framework's own format (native = harness or loopengt)",
    )
    resume.add_argument(
        "--no-redact", action="store_true", help="export secrets as they are (redacted by default)"
    )
    resume.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"trim the context to fit N bytes (default {DEFAULT_MAX_BYTES})",
    )
    where = resume.add_mutually_exclusive_group()
    where.add_argument(
        "--out",
        metavar="DIR|FILE|-",
        help="folder, or file ending in .json or .md, to write ('-' prints the document); default: "
        "$BATON_OUTBOX or ~/.baton/outbox/<format>/",
    )
    where.add_argument("--stdout", action="store_true", help="print the document instead of writing a file")
    resume.add_argument("--json", action="store_true", help="print a JSON summary of the export")
    add_db_option(resume)


def _target(out: str | None) -> tuple[Path | None, Path | None]:
    """(folder, file) from ``--out``: an existing folder, a path ending in '/' or without a
    .json or .md suffix is a folder; anything else a file."""
    if out is None:
        return None, None
    path = Path(out).expanduser()
    if path.is_dir() or out.endswith(("/", "\\")) or path.suffix.lower() not in (".json", ".md"):
        return path, None
    return None, path


def _describe(result: ExportResult) -> list[str]:
    lines = []
    redaction = result.redaction
    if not redaction.enabled:
        lines.append("redaction: off (secrets exported as they are)")
    elif redaction.count:
        paths = ", ".join(escape(r.path) for r in redaction.redactions[:8]) + (
            " ..." if redaction.count > 8 else ""
        )
        lines.append(f"redacted: {redaction.count} value(s) at {paths}")
    else:
        lines.append("redacted: nothing looked like a secret")
    lines += [f"note: {escape(note)}" for note in result.notes]
    return lines


def run(args: argparse.Namespace) -> int:
    from core.db import make_engine
    from core.resume.export import export_checkpoint
    from core.resume.options import ExportOptions

    options = ExportOptions(
        format=args.format,
        agent_id=args.agent,
        retry_strategy=args.strategy,
        executor_hint=args.hint,
        redact=not args.no_redact,
        max_bytes=args.max_bytes,
    )
    engine = make_engine(args.db, create=False)
    to_stdout = args.stdout or args.out == "-"
    folder, file = (None, None) if to_stdout else _target(args.out)
    result = export_checkpoint(
        engine,
        args.checkpoint_id,
        options,
        folder=folder,
        file=file,
        destination="stdout" if to_stdout else None,
    )
    if to_stdout:
        sys.stdout.buffer.write(result.to_bytes())
        sys.stdout.flush()
        for line in _describe(result):
            print(line, file=sys.stderr)
        return 0
    if args.json:
        print_json(result.summary())
        return 0
    print(
        f"wrote {escape(result.path)} ({result.format}, {len(result.to_bytes()):,} bytes, "
        f"id {escape(result.document_id)})"
    )
    for line in _describe(result):
        print(line)
    if result.format == "prompt":  # one line per agent
        for command in result.command().splitlines():
            print(f"start: {escape(command)}")
    else:
        print(f"{'resume' if result.format != 'acf' else 'check'}: {escape(result.command())}")
    return 0

"""``baton show RUN_ID``: one run with its checkpoint forest and event counts."""

from __future__ import annotations

import argparse
from typing import Any

from baton.output import (
    add_db_option,
    cost_text,
    escape,
    failure_text,
    format_time,
    print_json,
    print_warnings,
)

HELP = "show one run with its checkpoints"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", help="an id from 'baton runs', or an unambiguous prefix")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true")


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
            f"  (handoff from {escape(parent_agent)})"
            if parent_agent and parent_agent != cp["agent_id"]
            else ""
        )
        missing = "  (parent not loaded)" if cp["parent_id"] and cp["parent_id"] not in by_id else ""
        lines.append(
            f"{'  ' * depth}{'└─ ' if depth else ''}{escape(cp['id'])}  {escape(cp['status']):<9} "
            f"{escape(cp['agent_id'] or '-')}  {escape(format_time(cp['created_at']))}{handoff}{missing}"
        )
        stack.extend((child, depth + 1, cp["agent_id"]) for child in reversed(children.get(cp["id"], [])))
    return lines


def _tokens(run: dict[str, Any]) -> str:
    if run["input_tokens"] is None and run["output_tokens"] is None:
        return "unknown"
    return f"{run['input_tokens'] or 0:,} in / {run['output_tokens'] or 0:,} out"


def run(args: argparse.Namespace) -> int:
    from core import queries
    from core.annotate import annotate_runs
    from core.db import make_engine
    from core.prices import load_price_book

    engine = make_engine(args.db, create=False)
    run_id = queries.resolve_run_id(engine, args.run_id)
    book = load_price_book(engine)
    print_warnings(book.warnings)
    run = annotate_runs(engine, [queries.get_run(engine, run_id)], book)[0]
    checkpoints = queries.run_checkpoints(engine, run_id)
    counts = queries.event_counts(engine, run_id)
    if args.json:
        print_json(run | {"checkpoints": checkpoints, "event_counts": counts})
        return 0
    print(f"run {escape(run['id'])}  ({escape(run['framework'])} {escape(run['native_id'])})")
    for label, value in (
        ("status", run["status"]),
        ("task", run["task"]),
        ("agents", ", ".join(run["agents"])),
        ("started", format_time(run["started_at"])),
        ("ended", format_time(run["ended_at"])),
        ("tokens", _tokens(run)),
        ("cost", f"{cost_text(run)} ({run['cost_provenance']})" if cost_text(run) else "unknown"),
        ("failure", failure_text(run)),
        ("resume", run["last_good_checkpoint"] and f"last good checkpoint {run['last_good_checkpoint']}"),
    ):
        if value:
            print(f"  {label:<8} {escape(value)}")
    attributes = run["attributes"]
    if attributes.get("parent_run_id"):  # a fork or subagent of another run (Codex, Gemini CLI)
        parent = f"{attributes['parent_run_id']} ({attributes.get('parent_kind') or 'parent'} of"
        print(f"  {'parent':<8} {escape(parent)} {escape(attributes.get('parent_native_id') or '?')})")
    for label, key in (
        ("cwd", "cwd"),
        ("branch", "git_branch"),
        ("version", "cli_version"),
        ("model", "model"),
    ):
        if isinstance(attributes.get(key), str):
            print(f"  {label:<8} {escape(attributes[key])}")
    for index, source in enumerate(attributes.get("sources") or ()):  # one run, several files
        print(f"  {'sources' if index == 0 else '':<8} {escape(source)}")
    print(f"\ncheckpoints ({len(checkpoints)}):")
    for line in forest_lines(checkpoints) or ["  none"]:
        print(f"  {line}")
    print("\nevents: " + (", ".join(f"{escape(k)} {v}" for k, v in counts.items()) or "none"))
    return 0

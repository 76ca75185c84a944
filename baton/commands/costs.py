"""``baton costs``: tokens and cost by run, agent, model, framework or day, with provenance.

Unpriced calls are never shown as $0: a row shows its priced total (if any) and how many
calls and tokens have no price. Costs are computed now from the stored tokens and the
current prices, so an edited prices file shows at once.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from baton.output import add_db_option, escape, money, print_json, print_table, print_warnings

if TYPE_CHECKING:
    from core.costs import CostSummary

HELP = "tokens and cost, with where each figure comes from"

PRICES_HELP = """prices, USD per 1M tokens; precedence: your file > price files in ingested folders
(techrevati pricing.json) > genai-prices' bundled data (never fetched). Your file is
$BATON_PRICES or ~/.baton/prices.toml:

  [models."my-llama"]
  input = 0.2
  output = 0.4
  cache_read = 0.05     # optional
  cache_write = 0.25    # optional
  date = "2026-01-15"   # optional
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.costs import GROUPINGS

    parser.description = (
        "Tokens and cost with provenance: reported (by the source), computed (tokens x a named, "
        "dated price) or unpriced (never counted as $0). input_tokens are uncached input; cache reads and "
        "writes have their own columns (each framework's own counting is normalized, see core/costs.py)."
    )
    parser.epilog = PRICES_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--by", choices=GROUPINGS, default="run", help="group rows by (default: run)")
    parser.add_argument(
        "--run", metavar="RUN_ID", help="only this run (an id from 'baton runs', or a prefix)"
    )
    parser.add_argument(
        "--between",
        nargs=2,
        metavar=("FROM", "TO"),
        help="with --run: the cost after checkpoint FROM up to checkpoint TO ('start' for the run's start)",
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def _row(summary: CostSummary, by: str, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    row = summary.to_dict()
    if by == "run" and summary.key in runs:
        run = runs[summary.key]
        row |= {"framework": run["framework"], "native_id": run["native_id"]}
    return row


def run(args: argparse.Namespace) -> int:
    from core import costs, queries
    from core.db import make_engine
    from core.errors import UserError
    from core.prices import load_price_book

    engine = make_engine(args.db, create=False)
    book = load_price_book(engine)
    print_warnings(book.warnings)
    run_ids = [queries.resolve_run_id(engine, args.run)] if args.run else None
    if args.between:
        if not run_ids:
            raise UserError("--between needs --run RUN_ID")
        start, end = (
            None if ref == "start" else queries.resolve_checkpoint_id(engine, ref) for ref in args.between
        )
        if end is None:
            raise UserError("--between: TO must be a checkpoint id")
        summaries = [costs.cost_between_checkpoints(engine, run_ids[0], start, end, book)]
    else:
        summaries = costs.costs_by(engine, args.by, book, run_ids)
    runs = {r["id"]: r for r in queries.list_runs(engine)} if args.by == "run" else {}
    rows = [_row(s, args.by, runs) for s in summaries]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No token or cost data. Load runs with: baton ingest PATH")
        return 0
    print_table(
        (
            args.by if not args.between else "window",
            "calls",
            "in",
            "out",
            "cache r",
            "cache w",
            "cost",
            "provenance",
        ),
        [
            (
                _label(row, args.by),
                row["calls"],
                row["input_tokens"],
                row["output_tokens"],
                row["cache_read_tokens"],
                row["cache_write_tokens"],
                money(s.cost_usd, s.unpriced_calls),
                row["provenance"],
            )
            for row, s in zip(rows, summaries, strict=True)
        ],
    )
    total = costs.CostSummary()
    for s in summaries:
        _merge(total, s)
    print(
        f"\ntotal: {money(total.cost_usd, total.unpriced_calls)}"
        + (f"; unpriced tokens: {total.unpriced_tokens:,}" if total.unpriced_calls else "")
    )
    if total.unpriced_calls:
        models = sorted({m for s in summaries for m in s.unpriced_models})
        print(
            f"no price for: {escape(', '.join(models))} (add them to the prices file, see 'baton costs --help')"
        )
    return 0


def _label(row: dict[str, Any], by: str) -> str:
    if row["key"] is None:
        return "(none)"
    if by == "run" and row.get("native_id"):
        return f"{row['key']} {row['framework']} {row['native_id']}"
    return str(row["key"])


def _merge(total: CostSummary, part: CostSummary) -> None:
    for name in (
        "calls",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reported_usd",
        "computed_usd",
        "reported_calls",
        "computed_calls",
        "unpriced_calls",
        "unpriced_tokens",
    ):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.unpriced_models.extend(m for m in part.unpriced_models if m not in total.unpriced_models)

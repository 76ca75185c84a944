"""Cost of every model call, with provenance, computed at query time.

Provenance of one call:

* ``reported`` – the source wrote a cost (harness budgets, techrevati usage records);
* ``computed`` – tokens x a named, dated price (see ``core.prices``);
* ``unpriced`` – tokens known, no price. Never shown or summed as $0: a total is the
  priced sum plus how many calls and tokens are unpriced.

One call is priced in ``core.call_cost`` (tokens split as the provider bills them, times
a price, or the cost the source reported); this module reads the calls from the database
and adds them up by run, agent, model, framework or day.

Costs are computed each time from stored tokens and the current ``PriceBook``, so an
edited prices file changes every figure without re-ingesting anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, null, or_, select
from sqlalchemy.engine import Engine

from core.call_cost import Call, CallCost, price_call
from core.errors import NotFound, UserError
from core.prices import PriceBook, load_price_book
from core.tables import Checkpoint, Event, Run
from core.timeutil import parse_timestamp

CALL_KINDS = ("llm_call", "usage")
GROUPINGS = ("run", "agent", "model", "framework", "day")


@dataclass(slots=True)
class CostSummary:
    """Tokens and cost of a group of calls. ``cost_usd`` is the priced total (None when
    nothing is priced); unpriced calls are counted, never added as $0."""

    key: Any = None
    calls: int = 0
    input_tokens: int = 0  # uncached input (cache reads/writes are in their own columns)
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reported_usd: float = 0.0
    computed_usd: float = 0.0
    reported_calls: int = 0
    computed_calls: int = 0
    unpriced_calls: int = 0
    unpriced_tokens: int = 0
    unpriced_models: list[str] = field(default_factory=list)
    prices: dict[str, str] = field(default_factory=dict)  # price name -> "origin: source (as_of)"

    def add(self, call: Call, cost: CallCost) -> None:
        self.calls += 1
        self.input_tokens += cost.billed_input
        self.output_tokens += cost.output
        self.cache_read_tokens += cost.billed_cache_read
        self.cache_write_tokens += cost.billed_cache_write
        if cost.provenance == "reported":
            self.reported_calls += 1
            self.reported_usd += cost.cost_usd or 0.0
        elif cost.provenance == "computed":
            self.computed_calls += 1
            self.computed_usd += cost.cost_usd or 0.0
            if cost.price is not None:
                p = cost.price
                self.prices[p.name] = f"{p.origin}: {p.source}" + (f" ({p.as_of})" if p.as_of else "")
        else:
            self.unpriced_calls += 1
            self.unpriced_tokens += call.tokens
            label = call.model or "(no model)"
            if label not in self.unpriced_models:
                self.unpriced_models.append(label)

    @property
    def cost_usd(self) -> float | None:
        if not self.reported_calls and not self.computed_calls:
            return None
        return self.reported_usd + self.computed_usd

    @property
    def provenance(self) -> str | None:
        """reported, computed, reported+computed, unpriced, or None (no calls)."""
        kinds = [
            name for name, n in (("reported", self.reported_calls), ("computed", self.computed_calls)) if n
        ]
        if kinds:
            return "+".join(kinds)
        return "unpriced" if self.unpriced_calls else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cost_usd": self.cost_usd,
            "provenance": self.provenance,
            "reported_usd": self.reported_usd if self.reported_calls else None,
            "computed_usd": self.computed_usd if self.computed_calls else None,
            "unpriced_calls": self.unpriced_calls,
            "unpriced_tokens": self.unpriced_tokens,
            "unpriced_models": self.unpriced_models,
            "prices": self.prices,
        }


# -- calls from the database ------------------------------------------------------------------
def _single(values: Any) -> str | None:
    return values[0] if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str) else None


def _run_model(attributes: Any) -> str | None:
    if not isinstance(attributes, dict):
        return None
    model = attributes.get("model")
    return model if isinstance(model, str) and model else _single(attributes.get("models"))


def _ttl(top: Any, usage: Any) -> str | None:
    """An event's cache TTL (``"1h"`` prices cache writes at the 1-hour rate): its payload's
    ``cache_ttl`` string, else ``usage.cache_ttl``. The database extracts the two values,
    so the bulky payload itself is never read or decoded. A ``{"5m": n, "1h": m}`` split
    (a call that wrote both) is priced by ``_hour_writes``; its base lifetime is 5 minutes."""
    if isinstance(top, dict):
        return "5m"
    return top if isinstance(top, str) else usage if isinstance(usage, str) else None


def _hour_writes(top: Any) -> int:
    """How many of a call's cache writes were 1-hour writes, from a ``cache_ttl`` split."""
    value = top.get("1h") if isinstance(top, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


_CALL_COLUMNS = (
    Event.run_id,
    Event.agent_id,
    Event.model,
    Event.at,
    Event.input_tokens,
    Event.output_tokens,
    Event.cache_read_tokens,
    Event.cache_write_tokens,
    Event.cost_usd,
    # Only payloads that mention cache_ttl at all are looked into (most never do): a plain
    # substring test in the database, no JSON parsed or decoded for the others.
    case((cast(Event.data, String).like("%cache_ttl%"), Event.data["cache_ttl"]), else_=null()),
    case((cast(Event.data, String).like("%cache_ttl%"), Event.data[("usage", "cache_ttl")]), else_=null()),
)
_PRICED_EVENT = (
    Event.kind.in_(CALL_KINDS),
    or_(
        *(
            c.is_not(None)
            for c in (
                Event.input_tokens,
                Event.output_tokens,
                Event.cache_read_tokens,
                Event.cache_write_tokens,
                Event.cost_usd,
            )
        )
    ),
)


def _event_call(row: Any, framework: str) -> Call:
    """The Call of one row of ``_CALL_COLUMNS`` (the one place event rows become calls)."""
    return Call(
        row[0],
        framework,
        row[1],
        row[2],
        row[3],  # already aware UTC (UTCDateTime)
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        _ttl(row[9], row[10]),
        cache_write_1h_tokens=_hour_writes(row[9]),
    )


def load_calls(
    engine: Engine,
    run_ids: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    events_only: bool = False,
) -> list[Call]:
    """Every priced unit of the given runs (all runs when None).

    A run's calls are its ``llm_call``/``usage`` events with tokens or a cost (all-zero
    counts mean "not reported", as loopengt's ``agent.invoke`` writes them). A run whose
    cost the source reports only at run level (no event carries a cost), or that has
    tokens but no call events, is one run-level call instead, so that every breakdown adds
    up to the same total. ``since``/``until`` keep event calls with ``since < at <= until``
    and drop run-level calls (they cannot be split in time). ``events_only`` returns the
    event calls alone (a per-call view), whatever the run level says.
    """
    wanted = set(run_ids) if run_ids is not None else None
    query = select(*_CALL_COLUMNS).where(*_PRICED_EVENT)
    run_query = select(
        Run.id,
        Run.framework,
        Run.agents,
        Run.attributes,
        Run.input_tokens,
        Run.output_tokens,
        Run.cache_read_tokens,
        Run.cache_write_tokens,
        Run.reported_cost_usd,
        Run.started_at,
        Run.ended_at,
    )
    if wanted is not None and len(wanted) <= 500:
        query = query.where(Event.run_id.in_(wanted))
        run_query = run_query.where(Run.id.in_(wanted))
    by_run: dict[str, list[Call]] = {}
    with engine.connect() as connection:
        runs = [r for r in connection.execute(run_query) if wanted is None or r.id in wanted]
        framework_of = {r.id: r.framework for r in runs}
        for row in connection.execute(query):
            framework = framework_of.get(row[0])
            if framework is None:  # not asked for (or an event without its run)
                continue
            call = _event_call(row, framework)
            if call.tokens or call.reported_usd is not None:
                by_run.setdefault(call.run_id, []).append(call)
    calls: list[Call] = []
    for run in runs:
        events = by_run.get(run.id, [])
        run_reported_only = (
            not events_only
            and run.reported_cost_usd is not None
            and all(c.reported_usd is None for c in events)
        )
        has_run_tokens = any(
            v for v in (run.input_tokens, run.output_tokens, run.cache_read_tokens, run.cache_write_tokens)
        )
        if events and not run_reported_only:
            calls.extend(c for c in events if _in_window(c.at, since, until))
        elif (run_reported_only or has_run_tokens) and since is None and until is None and not events_only:
            calls.append(
                Call(
                    run.id,
                    run.framework,
                    _single(run.agents),
                    _run_model(run.attributes),
                    parse_timestamp(run.ended_at or run.started_at),
                    run.input_tokens,
                    run.output_tokens,
                    run.cache_read_tokens,
                    run.cache_write_tokens,
                    run.reported_cost_usd,
                    basis="run",
                )
            )
    return calls


def event_costs(
    engine: Engine, run_id: str, event_ids: Iterable[str], book: PriceBook | None = None
) -> dict[str, CallCost]:
    """Cost and provenance of each model call among ``event_ids`` (events of ``run_id``, e.g.
    one page of its timeline), priced exactly as :func:`load_calls` prices them; events
    that are not priced calls are absent. Only these events are read."""
    ids = list(event_ids)
    found: dict[str, CallCost] = {}
    if not ids:
        return found
    book = book or load_price_book(engine)
    with engine.connect() as connection:
        framework = connection.execute(select(Run.framework).where(Run.id == run_id)).scalar()
        if framework is None:
            return found
        for start in range(0, len(ids), 500):
            query = select(Event.id, *_CALL_COLUMNS).where(
                Event.id.in_(ids[start : start + 500]), Event.run_id == run_id, *_PRICED_EVENT
            )
            for row in connection.execute(query):
                call = _event_call(row[1:], framework)
                if call.tokens or call.reported_usd is not None:
                    found[row[0]] = price_call(call, book)
    return found


def _in_window(at: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    if at is None:
        return False
    return (since is None or at > since) and (until is None or at <= until)


# -- aggregations -----------------------------------------------------------------------------
KEY_FUNCTIONS: dict[str, Callable[[Call], Any]] = {
    "run": lambda c: c.run_id,
    "agent": lambda c: c.agent,
    "model": lambda c: c.model,
    "framework": lambda c: c.framework,
    "day": lambda c: c.at.date().isoformat() if c.at else None,
}


def summarize(calls: Iterable[Call], book: PriceBook, by: str | None = None) -> list[CostSummary]:
    """Group ``calls`` by one of GROUPINGS (None: a single total) and price them."""
    key_of = KEY_FUNCTIONS[by] if by else (lambda c: None)
    groups: dict[Any, CostSummary] = {}
    for call in calls:
        key = key_of(call)
        groups.setdefault(key, CostSummary(key=key)).add(call, price_call(call, book))
    return sorted(groups.values(), key=lambda s: (-(s.cost_usd or 0.0), -s.calls, str(s.key)))


def costs_by(
    engine: Engine, by: str = "run", book: PriceBook | None = None, run_ids: Iterable[str] | None = None
) -> list[CostSummary]:
    """Cost and tokens by run, agent, model, framework or day (highest cost first)."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group costs by {by!r}; choose one of {', '.join(GROUPINGS)}")
    book = book or load_price_book(engine)
    return summarize(load_calls(engine, run_ids), book, by)


def run_costs(
    engine: Engine, run_ids: Iterable[str] | None = None, book: PriceBook | None = None
) -> dict[str, CostSummary]:
    """run id -> its cost summary (runs without any usage are absent)."""
    return {s.key: s for s in costs_by(engine, "run", book, run_ids)}


def cost_between_checkpoints(
    engine: Engine,
    run_id: str,
    from_checkpoint: str | None,
    to_checkpoint: str,
    book: PriceBook | None = None,
) -> CostSummary:
    """What the calls of ``run_id`` made after checkpoint ``from_checkpoint`` (None: the
    run's start) up to and including ``to_checkpoint`` cost: a segment, or a failed branch.
    Checkpoint ids are Baton's (``checkpoint.id``). Run-level usage cannot be split in time
    and is left out."""
    times: dict[str, datetime | None] = {}
    with engine.connect() as connection:
        for ref in filter(None, (from_checkpoint, to_checkpoint)):
            row = connection.execute(
                select(Checkpoint.created_at).where(Checkpoint.id == ref, Checkpoint.run_id == run_id)
            ).first()
            if row is None:
                raise NotFound(f"run {run_id} has no checkpoint {ref!r}")
            times[ref] = parse_timestamp(row[0])
    since = times.get(from_checkpoint) if from_checkpoint else None
    until = times[to_checkpoint]
    if until is None or (from_checkpoint and since is None):
        raise UserError("a checkpoint without a creation time cannot bound a cost window")
    if since is not None and since > until:
        since, until = until, since
    calls = load_calls(
        engine, [run_id], since=since or datetime.min.replace(tzinfo=until.tzinfo), until=until
    )
    book = book or load_price_book(engine)
    summaries = summarize(calls, book)
    return summaries[0] if summaries else CostSummary(key=run_id)

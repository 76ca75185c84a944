"""One model call's cost: its tokens split as the provider bills them, times a price, or
the cost the source reported, with the provenance of the figure (see ``core.costs``).

A reported cost of exactly 0 for a call with tokens is read as "the source had no price"
(techrevati records $0 for a model missing from its table) and falls through to a
computed or unpriced figure; price a model at 0 in the user file to make it free.

Cached input, counted as the provider bills it: whether a source's input count already
includes cache reads and writes is its framework's convention (``input_includes_cache`` in
its module in ``core.frameworks``; a source with no module goes by model family, see
``core.frameworks.generic``).

When input includes cache, cache reads and writes are subtracted before the rest is priced
at the input rate (no double counting). A cache rate the price lacks falls back to the
input rate (providers without a cache discount bill cached input as input).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from core.frameworks.registry import lookup
from core.prices import ModelPrice, PriceBook


@dataclass(slots=True)
class Call:
    """One priced unit: a model call (an event), or a whole run when the source reports
    usage only at run level."""

    run_id: str
    framework: str
    agent: str | None = None
    model: str | None = None
    at: datetime | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reported_usd: float | None = None
    cache_ttl: str | None = None
    basis: str = "event"  # event | run
    # Of cache_write_tokens, how many were 1-hour writes when a call made both lifetimes
    # (Anthropic's ephemeral_5m/ephemeral_1h split); the rest go at the ``cache_ttl`` rate.
    cache_write_1h_tokens: int = 0

    @property
    def tokens(self) -> int:
        return sum(
            v or 0
            for v in (self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens)
        )


@dataclass(slots=True)
class CallCost:
    cost_usd: float | None  # reported if any, else computed; None when unpriced
    provenance: str  # reported | computed | unpriced
    computed_usd: float | None = None
    price: ModelPrice | None = None
    billed_input: int = 0  # uncached input tokens (priced at the input rate)
    billed_cache_read: int = 0
    billed_cache_write: int = 0
    output: int = 0


def input_includes_cache(framework: str, model: str | None, call: Call) -> bool:
    """Whether the source's input count already contains cache reads/writes: the framework's
    convention (module doc)."""
    return lookup(framework).input_includes_cache(model, call.cache_read_tokens, call.cache_write_tokens)


def split_tokens(call: Call) -> tuple[int, int, int, int]:
    """(uncached input, cache read, cache write, output) as the provider bills them."""
    inp, read, write = call.input_tokens or 0, call.cache_read_tokens or 0, call.cache_write_tokens or 0
    if input_includes_cache(call.framework, call.model, call):
        inp = max(inp - read - write, 0)
    return inp, read, write, call.output_tokens or 0


def compute_usd(
    call: Call, price: ModelPrice, split: tuple[int, int, int, int] | None = None
) -> float | None:
    """tokens x price for one call, or None when the price lacks a rate the call needs."""
    inp, read, write, out = split or split_tokens(call)
    if price.tiers:
        total_input = inp + read + write
        input_rate = price.rate("input", total_input)
        write_field = _write_rate_field(price, call.cache_ttl)
        rates = (
            input_rate,
            price.rate("output", total_input),
            _or(price.rate("cache_read", total_input), input_rate),
            _or(price.rate(write_field, total_input), input_rate),
        )
    else:
        rates = _flat_rates(price, call.cache_ttl)
    r_in, r_out, r_read, r_write = rates
    hour = min(call.cache_write_1h_tokens, write)
    r_hour = r_write
    if hour:
        field_1h = _write_rate_field(price, "1h")
        r_hour = _or(
            price.rate(field_1h, inp + read + write) if price.tiers else getattr(price, field_1h), r_in
        )
        write -= hour
    if (
        (inp and r_in is None)
        or (out and r_out is None)
        or (read and r_read is None)
        or (write and r_write is None)
        or (hour and r_hour is None)
    ):
        return None
    return (
        inp * (r_in or 0.0)
        + out * (r_out or 0.0)
        + read * (r_read or 0.0)
        + write * (r_write or 0.0)
        + hour * (r_hour or 0.0)
    ) / 1_000_000


def _write_rate_field(price: ModelPrice, cache_ttl: str | None) -> str:
    """The rate a cache write is billed at: its lifetime's own rate when the price has one
    ("5m", "1h"), else the base cache-write rate (techrevati's rule)."""
    field_name = {"5m": "cache_write_5min", "1h": "cache_write_1h"}.get(cache_ttl or "")
    if field_name is not None and getattr(price, field_name) is not None:
        return field_name
    return "cache_write"


@lru_cache(maxsize=4096)
def _flat_rates(
    price: ModelPrice, cache_ttl: str | None
) -> tuple[float | None, float | None, float | None, float | None]:
    """(input, output, cache read, cache write) rates of a price without tiers, looked up
    once per price rather than once per call; a missing cache rate falls back to input."""
    write = getattr(price, _write_rate_field(price, cache_ttl))
    return price.input, price.output, _or(price.cache_read, price.input), _or(write, price.input)


def _or(value: float | None, fallback: float | None) -> float | None:
    return value if value is not None else fallback


def price_call(call: Call, book: PriceBook) -> CallCost:
    """Cost and provenance of one call under ``book``."""
    inp, read, write, out = split_tokens(call)
    price = book.lookup(call.model, call.at)
    computed = compute_usd(call, price, (inp, read, write, out)) if price is not None else None
    reported = call.reported_usd
    if reported is not None and (reported > 0 or call.tokens == 0):
        cost, provenance = reported, "reported"
    elif computed is not None:
        cost, provenance = computed, "computed"
    else:
        cost, provenance = None, "unpriced"
    return CallCost(
        cost, provenance, computed, price if computed is not None else None, inp, read, write, out
    )

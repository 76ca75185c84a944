"""Model prices, USD per 1M tokens, from three sources with a fixed precedence.

1. **user** – ``$BATON_PRICES`` or ``~/.baton/prices.toml``: custom or self-hosted models,
   or an override of any public price.
2. **ingested** – prices found in ingested files (techrevati ``pricing.json``), kept in the
   ``price`` table. When several files price one model, the most recently modified wins.
3. **genai-prices** – the library's *bundled* data. Baton builds its own snapshot from
   ``genai_prices.data`` and never calls ``UpdatePrices`` or the module-level
   ``calc_price`` (which would use a snapshot an auto-updater may have fetched), so no
   price is ever fetched over the network.

Model names match case-insensitively. In the user and ingested tables a name also matches
a model that adds a date or tag (``model-a`` prices ``model-a-20260514``, ``llama3.1``
prices ``llama3.1:8b``; ``claude-opus-4`` never prices ``claude-opus-4-5``), like techrevati's own lookup; an exact name in any source beats a
suffix match. genai-prices applies its own matching rules (aliases, dated ids).

Each source's own rule for a rate it omits: in the user file an omitted cache rate is the
input rate (a provider without a cache discount bills cached input as input) and an omitted
lifetime rate the cache-write rate; an ingested techrevati ``pricing.json`` is read as the
package reads it (an omitted cache rate is 0, see ``ingest.parsers.techrevati.pricing``).

User file (TOML)::

    [models."my-llama"]
    input = 0.2            # USD per 1M uncached input tokens
    output = 0.4
    cache_read = 0.05      # optional
    cache_write = 0.25     # optional: cache writes, and the rate of writes of no stated lifetime
    cache_write_5min = 0.25  # optional: 5-minute cache writes, when they differ (Anthropic)
    cache_write_1h = 0.5   # optional: 1-hour cache writes (Anthropic)
    date = "2026-01-15"    # optional: when the price was taken

The ``*_per_million`` spellings of the pricing.json schema are accepted too. A broken file
never stops anything: its problems come back as warnings and its valid models still count.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.tables import Price, SourceFile

DEFAULT_USER_PRICES = Path("~/.baton/prices.toml")
RATE_FIELDS = ("input", "output", "cache_read", "cache_write", "cache_write_5min", "cache_write_1h")
ORIGINS = ("user", "ingested", "genai-prices")
_SUFFIX = re.compile(r"^(?:-\d{8}|-\d{4}-\d{2}-\d{2}|@[\w.-]+|-latest|:[\w.-]+)$")  # dates, tags, aliases
_GENAI_KEYS = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
}


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One model's price in USD per 1M tokens, with where it came from.

    ``tiers`` holds threshold prices (rate field -> ((start, rate), ...)): when a call's
    total input exceeds ``start``, the whole call is priced at that tier (the providers'
    "cliff" model, as genai-prices applies it).
    """

    name: str  # the name the price is listed under (may differ from the model asked for)
    origin: str  # one of ORIGINS
    source: str  # file path, or "genai-prices <version> (bundled data)"
    as_of: str | None = None  # date the price is from, when known
    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None
    cache_write_5min: float | None = None
    cache_write_1h: float | None = None
    tiers: tuple[tuple[str, tuple[tuple[int, float], ...]], ...] = ()

    def rate(self, field_name: str, total_input_tokens: int = 0) -> float | None:
        """The per-1M rate for ``field_name`` at a call's total input size."""
        value = getattr(self, field_name)
        for name, tiers in self.tiers:
            if name == field_name:
                for start, tier_rate in tiers:
                    if total_input_tokens > start:
                        value = tier_rate
        return value

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "origin": self.origin, "source": self.source, "as_of": self.as_of}
        data.update({name: getattr(self, name) for name in RATE_FIELDS})
        if self.tiers:
            data["tiers"] = {name: [list(t) for t in tiers] for name, tiers in self.tiers}
        return data


@dataclass(slots=True)
class PriceBook:
    """All prices Baton knows right now. Build one per query (cheap) so that an edited
    user file or newly ingested pricing.json takes effect without re-ingesting anything."""

    user: dict[str, ModelPrice] = field(default_factory=dict)
    ingested: dict[str, ModelPrice] = field(default_factory=dict)
    use_library: bool = True
    warnings: list[str] = field(default_factory=list)
    _memo: dict[tuple[str, int], ModelPrice | None] = field(default_factory=dict, repr=False)

    def lookup(self, model: str | None, at: datetime | None = None) -> ModelPrice | None:
        """The price for ``model`` at time ``at`` (None: now), or None when unpriced."""
        if not model or not model.strip():
            return None
        hour = int((at or datetime.now(UTC)).timestamp() // 3600)  # naive datetimes are read as local
        key = (model, hour)
        try:
            return self._memo[key]
        except KeyError:
            found = self._memo[key] = self._find(
                model.strip().lower(), datetime.fromtimestamp(hour * 3600, UTC)
            )
            return found

    def _find(self, name: str, at: datetime) -> ModelPrice | None:
        for table in (self.user, self.ingested):
            if name in table:
                return table[name]
        for table in (self.user, self.ingested):
            found = _suffix_match(table, name)
            if found is not None:
                return found
        return library_price(name, at) if self.use_library else None

    def fingerprint(self) -> str:
        """Changes whenever a user or ingested price changes (a cache key for callers)."""
        text = repr(sorted(self.user.items())) + repr(sorted(self.ingested.items())) + str(self.use_library)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _suffix_match(table: dict[str, ModelPrice], name: str) -> ModelPrice | None:
    best = None
    for listed, price in table.items():
        if (
            name.startswith(listed)
            and _SUFFIX.match(name[len(listed) :])
            and (best is None or len(listed) > len(best[0]))
        ):
            best = (listed, price)
    return best[1] if best else None


# -- genai-prices, offline --------------------------------------------------------------------
@cache
def genai_snapshot() -> Any:
    """genai-prices' bundled data as a snapshot of our own (``from_auto_update`` False):
    nothing here can reach the network."""
    from genai_prices import data
    from genai_prices.data_snapshot import DataSnapshot

    return DataSnapshot(providers=data.providers, from_auto_update=False)


@cache
def _genai_version() -> str:
    from importlib.metadata import version

    return version("genai-prices")


def _decimal_rate(value: Any) -> tuple[float | None, tuple[tuple[int, float], ...]]:
    if value is None:
        return None, ()
    base = getattr(value, "base", None)
    if base is not None:  # TieredPrices
        return float(base), tuple((int(t.start), float(t.price)) for t in value.tiers)
    return float(value), ()


@lru_cache(maxsize=4096)
def library_price(model: str, at: datetime) -> ModelPrice | None:
    """genai-prices' price for ``model`` (lower case) in force at ``at``, or None."""
    snapshot = genai_snapshot()
    try:
        provider, info = snapshot.find_provider_model(model, None, None, None)
    except LookupError:
        return None
    prices = info.get_prices(at)
    rates: dict[str, float | None] = {}
    tiers = []
    for name, key in _GENAI_KEYS.items():
        rate, tier = _decimal_rate(prices.__dict__.get(key))
        rates[name] = rate
        if tier:
            tiers.append((name, tier))
    if rates["input"] is None and rates["output"] is None:
        return None  # priced per request/second only: not a token price
    as_of = None
    if isinstance(info.prices, list):
        starts = [
            c.constraint.start_date
            for c in info.prices
            if getattr(c.constraint, "start_date", None) and c.constraint.active(at)
        ]
        as_of = max(starts).isoformat() if starts else None
    return ModelPrice(
        name=f"{provider.id}/{info.id}",
        origin="genai-prices",
        source=f"genai-prices {_genai_version()} (bundled data)",
        as_of=as_of,
        tiers=tuple(tiers),
        **rates,
    )


# -- user file --------------------------------------------------------------------------------
def user_prices_path() -> Path:
    """``$BATON_PRICES`` if set, else ``~/.baton/prices.toml``."""
    return Path(os.environ.get("BATON_PRICES") or DEFAULT_USER_PRICES).expanduser()


def _rate_value(entry: dict[str, Any], name: str) -> Any:
    for key in (name, f"{name}_per_million"):
        if key in entry:
            return entry[key]
    return None


def load_user_prices(path: Path) -> tuple[dict[str, ModelPrice], list[str]]:
    """Read a user prices file; problems become warnings, never exceptions."""
    if not path.exists():
        explicit = os.environ.get("BATON_PRICES")
        return {}, ([f"prices file {path} (BATON_PRICES) does not exist"] if explicit else [])
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"prices file {path}: cannot read it: {exc}"]
    models = document.get("models")
    if not isinstance(models, dict):
        return {}, [f'prices file {path}: no [models."NAME"] tables']
    prices: dict[str, ModelPrice] = {}
    warnings: list[str] = []
    for name, entry in models.items():
        if not isinstance(entry, dict):
            warnings.append(f"prices file {path}: models.{name} is not a table")
            continue
        rates: dict[str, float | None] = {}
        bad = []
        for rate_name in RATE_FIELDS:
            value = _rate_value(entry, rate_name)
            if value is None:
                rates[rate_name] = None
            elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                rates[rate_name] = float(value)
            else:
                bad.append(rate_name)
        if bad or (rates["input"] is None and rates["output"] is None):
            problem = f"bad {', '.join(bad)} (need a number >= 0)" if bad else "needs input and/or output"
            warnings.append(f"prices file {path}: models.{name}: {problem}; ignored")
            continue
        date = entry.get("date")
        prices[name.strip().lower()] = ModelPrice(
            name=name, origin="user", source=str(path), as_of=str(date) if date is not None else None, **rates
        )
    return prices, warnings


# -- ingested files ---------------------------------------------------------------------------
def ingested_prices(engine: Engine) -> dict[str, ModelPrice]:
    """Prices from the ``price`` table; for a model priced by several files, the most
    recently modified file wins."""
    query = (
        select(
            Price.model,
            Price.input_per_million,
            Price.output_per_million,
            Price.cache_read_per_million,
            Price.cache_write_per_million,
            Price.cache_write_5min_per_million,
            Price.cache_write_1h_per_million,
            Price.source,
            SourceFile.mtime_ns,
        )
        .select_from(Price)
        .outerjoin(SourceFile, SourceFile.id == Price.source_file_id)
        .order_by(SourceFile.mtime_ns.nulls_first(), Price.id)
    )
    prices: dict[str, ModelPrice] = {}
    with engine.connect() as connection:
        for row in connection.execute(query):
            if not row.model or (row.input_per_million is None and row.output_per_million is None):
                continue
            as_of = (
                datetime.fromtimestamp(row.mtime_ns / 1e9, tz=UTC).date().isoformat()
                if row.mtime_ns
                else None
            )
            prices[row.model.strip().lower()] = ModelPrice(
                name=row.model,
                origin="ingested",
                source=row.source or "ingested file",
                as_of=as_of,
                input=row.input_per_million,
                output=row.output_per_million,
                cache_read=row.cache_read_per_million,
                # A write without a lifetime is priced at the base rate, as techrevati does. The
                # parser fills the rates a pricing.json omits by the package's rule (0); rows
                # stored before it did fall back to the 5-minute rate.
                cache_write=_first(row.cache_write_per_million, row.cache_write_5min_per_million),
                cache_write_5min=row.cache_write_5min_per_million,
                cache_write_1h=row.cache_write_1h_per_million,
            )
    return prices


def _first(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


def load_price_book(
    engine: Engine | None = None, user_path: Path | None = None, use_library: bool = True
) -> PriceBook:
    """Everything Baton knows about prices now: the user file, ingested files (when an
    engine is given) and genai-prices' bundled data."""
    user, warnings = load_user_prices(user_path or user_prices_path())
    ingested = ingested_prices(engine) if engine is not None else {}
    return PriceBook(user=user, ingested=ingested, use_library=use_library, warnings=warnings)

"""techrevati-runtime pricing files (the ``load_pricing_from_file`` schema, also the
package's bundled ``data/pricing.json``): ``{"models": {"<name>": {"input_per_million":
…, "output_per_million": …, "cache_write_per_million"?, "cache_read_per_million"?}}}``,
since 0.4 also ``cache_write_5min_per_million`` and ``cache_write_1h_per_million`` (the rate
for writes of that lifetime, falling back to ``cache_write_per_million``).

Prices are USD per 1M tokens; each becomes a PriceRecord whose source is the file. The
package lower-cases names and matches a model by exact name, then by longest prefix.

A rate the file omits is read as the package reads it (``ModelPricing``'s defaults, both
versions): no cache-read or cache-write rate is 0, so those tokens cost nothing, as in the
package's own ``cost_usd``; no (or a 0) 5-minute or 1-hour rate means the cache-write rate.
Only a price the file states is used: a rate that is not a number stays unknown.
Entries without a number are skipped with a warning, never failing the file (the bundled
table is empty and carries a ``_schema`` of strings).
"""

from __future__ import annotations

from typing import Any

from core.records import ParsedFile, PriceRecord
from ingest.content import Content
from ingest.parsers.techrevati.common import FRAMEWORK
from ingest.spec import FormatSpec

NAME = "techrevati.pricing"
RATES = (
    "input_per_million",
    "output_per_million",
    "cache_read_per_million",
    "cache_write_per_million",
    "cache_write_5min_per_million",
    "cache_write_1h_per_million",
)


def detect(content: Content) -> bool:
    doc = content.json if content.kind == "json" else None
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        return False
    entries = list(doc["models"].values()) + [doc.get("_schema")]
    return any(
        isinstance(entry, dict) and ("input_per_million" in entry or "output_per_million" in entry)
        for entry in entries
    )


def _rate(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# What the package's ModelPricing takes for a rate the file omits (0.0 for the base cache rates;
# for the lifetimes' rates 0.0 as well, which its write_rate_for_ttl reads as "use the base").
OMITTED_IS_ZERO = ("cache_read_per_million", "cache_write_per_million")
ZERO_IS_BASE = ("cache_write_5min_per_million", "cache_write_1h_per_million")


def _rates(entry: dict[str, Any]) -> dict[str, float | None]:
    rates = {key: _rate(entry, key) for key in RATES}
    if rates["input_per_million"] is None and rates["output_per_million"] is None:
        return rates
    for key in OMITTED_IS_ZERO:
        if key not in entry:
            rates[key] = 0.0
    for key in ZERO_IS_BASE:
        if rates[key] == 0:
            rates[key] = None
    return rates


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format=NAME)
    for model, entry in content.json["models"].items():
        rates = _rates(entry) if isinstance(entry, dict) else {}
        if not isinstance(model, str) or not any(value is not None for value in rates.values()):
            parsed.warnings.append(
                f"{content.path}: model {model!r} has no price in USD per 1M tokens; skipped"
            )
            continue
        parsed.prices.append(PriceRecord(model=model.lower(), source=str(content.path), **rates))
    return parsed


FORMAT = FormatSpec(
    name=NAME,
    framework=FRAMEWORK,
    description="techrevati-runtime pricing.json (USD per 1M tokens)",
    detect=detect,
    parse=parse,
)

"""Per-call costs of a timeline page (``event_costs``): the same figures the run's totals are
made of, 1-hour cache writes at their own rate, only the asked events read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core import costs, ids, prices
from core.tables import Event, Run

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PRICE = {"input": 1, "output": 2, "cache_write": 10, "cache_write_1h": 20}
# native id, kind, cache write tokens, reported cost, data
CALLS = [
    ("hour-in-usage", "llm_call", 1000, None, {"usage": {"cache_ttl": "1h"}}),
    ("five-minutes", "llm_call", 1000, None, {"cache_ttl": "5m", "usage": {"cache_ttl": "1h"}}),
    ("hour-on-top", "usage", 1000, None, {"cache_ttl": "1h", "prompt": "x" * 5000}),
    ("not-a-ttl", "llm_call", 1000, None, {"cache_ttl": 3600, "usage": {"cache_ttl": "1h"}}),
    ("reported", "llm_call", 1000, 0.5, None),
    ("tool", "tool_call", 1000, None, {"cache_ttl": "1h"}),  # not a model call
    ("no-tokens", "llm_call", None, None, {"cache_ttl": "1h"}),  # nothing to price
]


@pytest.fixture
def run_id(engine: Engine) -> str:
    run = ids.run_id("techrevati", "ttl")
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.insert(), [{"id": run, "framework": "techrevati", "native_id": "ttl"}]
        )
        connection.execute(
            Event.__table__.insert(),
            [
                {
                    "id": native,
                    "run_id": run,
                    "seq": n,
                    "native_id": native,
                    "kind": kind,
                    "name": native,
                    "at": BASE + timedelta(seconds=n),
                    "model": "my-model",
                    "cache_write_tokens": write,
                    "cost_usd": reported,
                    "data": data,
                }
                for n, (native, kind, write, reported, data) in enumerate(CALLS)
            ],
        )
    return run


def test_one_hour_cache_writes_are_priced_at_their_rate(engine: Engine, run_id: str, tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('[models."my-model"]\n' + "".join(f"{k} = {v}\n" for k, v in PRICE.items()))
    book = prices.load_price_book(engine, user_path=path)
    found = costs.event_costs(engine, run_id, [native for native, *_ in CALLS], book)
    assert set(found) == {"hour-in-usage", "five-minutes", "hour-on-top", "not-a-ttl", "reported"}
    # 1,000 cache-write tokens: $0.02 at the 1-hour rate, $0.01 at the 5-minute one; a
    # cache_ttl that is not text falls back to usage.cache_ttl, like the payload reads.
    assert {k: (c.cost_usd, c.provenance) for k, c in found.items()} == {
        "hour-in-usage": (pytest.approx(0.02), "computed"),
        "five-minutes": (pytest.approx(0.01), "computed"),
        "hour-on-top": (pytest.approx(0.02), "computed"),
        "not-a-ttl": (pytest.approx(0.02), "computed"),
        "reported": (0.5, "reported"),
    }
    # The same figures as the run's own calls, which make its total.
    run_calls = costs.load_calls(engine, [run_id], events_only=True)
    assert sorted(costs.price_call(c, book).cost_usd for c in run_calls) == sorted(
        c.cost_usd for c in found.values()
    )
    summary = costs.run_costs(engine, [run_id], book)[run_id]
    assert summary.cost_usd == pytest.approx(0.02 + 0.01 + 0.02 + 0.02 + 0.5)
    assert costs.event_costs(engine, run_id, ["five-minutes"], book).keys() == {"five-minutes"}
    assert costs.event_costs(engine, "no-such-run", ["five-minutes"], book) == {}

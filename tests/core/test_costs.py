"""Costs with provenance on a real database loaded from sample_runs/, checked against
figures computed by hand and against techrevati-runtime's own cost code."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import call_cost, costs, prices
from core.costs import Call
from core.db import make_engine
from core.store import Store
from core.tables import Checkpoint, Event, Run, SourceFile
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS
from tests.framework_envs import framework_python

NO_USER_FILE = Path("/nonexistent/baton-test-prices.toml")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Every sample run loaded once into a real SQLite database."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('costs') / 'baton.db'}")
    summary = ingest_paths([SAMPLE_RUNS], Store(engine))
    assert summary.files_loaded > 100
    yield engine
    engine.dispose()


def write_prices(path: Path, models: dict[str, dict[str, float]]) -> Path:
    lines = []
    for name, rates in models.items():
        lines.append(f'[models."{name}"]')
        lines.extend(f"{key} = {value}" for key, value in rates.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def book_with(tmp_path: Path, engine: Engine | None, models: dict[str, dict[str, float]]) -> prices.PriceBook:
    return prices.load_price_book(engine, user_path=write_prices(tmp_path / "prices.toml", models))


def run_id_of(engine: Engine, framework: str, where: object) -> str:
    with engine.connect() as connection:
        ids = connection.execute(select(Run.id).where(Run.framework == framework, where)).scalars().all()
    assert len(ids) == 1, ids
    return ids[0]


def loop_run(engine: Engine, loop_name: str) -> str:
    return run_id_of(engine, "loopengt", Run.task == loop_name)


def techrevati_run(engine: Engine, part: str) -> str:
    """The techrevati run of ``<file>#<grouping>``: a file-named run id (``<file>#usage``...)
    that contains ``part``, or a session's run (``<role>/<phase>/...@<time>``) that one of its
    source files ending in ``<file>`` holds."""
    file, _, grouping = part.partition("#")
    with engine.connect() as connection:
        rows = connection.execute(
            select(Run.id, Run.native_id, Run.attributes).where(Run.framework == "techrevati")
        ).all()
    ids = [
        run
        for run, native, attributes in rows
        if part in native
        or (
            grouping
            and native.startswith(grouping)
            and any(s.endswith(file) for s in attributes.get("sources") or [attributes.get("source", "")])
        )
    ]
    assert len(ids) == 1, ids
    return ids[0]


# -- one call, per provider family ------------------------------------------------------------
def test_openai_style_input_includes_cache_reads_which_are_priced_once(tmp_path: Path) -> None:
    book = book_with(tmp_path, None, {"gpt-4o": {"input": 2.5, "output": 10, "cache_read": 1.25}})
    call = Call(
        "r", "otel", model="gpt-4o", input_tokens=10_000, output_tokens=1_000, cache_read_tokens=4_000
    )
    assert call_cost.split_tokens(call) == (6_000, 4_000, 0, 1_000)
    cost = costs.price_call(call, book)
    # 6000 x 2.5 + 4000 x 1.25 + 1000 x 10 = 30 000 per 1M; counting the cached tokens as
    # input too would give 40 000.
    assert cost.provenance == "computed"
    assert cost.cost_usd == pytest.approx(0.030)
    assert cost.price is not None and cost.price.origin == "user"


def test_anthropic_style_input_excludes_cache_read_and_write(tmp_path: Path) -> None:
    rates = {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "cache_write_1h": 6}
    book = book_with(tmp_path, None, {"claude-sonnet-4-5": rates})
    call = Call(
        "r",
        "otel",
        model="claude-sonnet-4-5",
        input_tokens=2_000,
        output_tokens=500,
        cache_read_tokens=8_000,
        cache_write_tokens=1_000,
    )
    assert call_cost.split_tokens(call) == (2_000, 8_000, 1_000, 500)
    # 2000 x 3 + 500 x 15 + 8000 x 0.3 + 1000 x 3.75 = 19 650 per 1M
    assert costs.price_call(call, book).cost_usd == pytest.approx(0.01965)
    call.cache_ttl = "1h"  # 1-hour cache writes are billed at their own rate: 1000 x 6
    assert costs.price_call(call, book).cost_usd == pytest.approx(0.0219)


def test_harness_cache_fields_tell_the_adapter_family(tmp_path: Path) -> None:
    book = book_with(tmp_path, None, {"m": {"input": 1, "output": 2, "cache_read": 0.1, "cache_write": 1.25}})
    # OpenAI adapter: tokens_in is prompt_tokens (cached included), no cache counts.
    openai = Call("r", "harness", model="m", input_tokens=1_000, output_tokens=100)
    assert costs.price_call(openai, book).cost_usd == pytest.approx((1_000 * 1 + 100 * 2) / 1e6)
    # Anthropic adapter: uncached tokens_in plus separate cache counts.
    anthropic = Call(
        "r",
        "harness",
        model="m",
        input_tokens=1_000,
        output_tokens=100,
        cache_read_tokens=5_000,
        cache_write_tokens=0,
    )
    assert call_cost.split_tokens(anthropic) == (1_000, 5_000, 0, 100)
    assert costs.price_call(anthropic, book).cost_usd == pytest.approx((1_000 + 200 + 500) / 1e6)


def test_threshold_tier_prices_the_whole_call(tmp_path: Path) -> None:
    book = prices.load_price_book(None, user_path=NO_USER_FILE)
    price = book.lookup("claude-sonnet-4-5")
    assert price is not None and price.origin == "genai-prices"
    small = Call("r", "otel", model="claude-sonnet-4-5", input_tokens=100_000, output_tokens=0)
    large = Call("r", "otel", model="claude-sonnet-4-5", input_tokens=300_000, output_tokens=0)
    base, tier = price.rate("input"), price.rate("input", 300_000)
    assert tier > base
    assert costs.price_call(small, book).cost_usd == pytest.approx(100_000 * base / 1e6)
    assert costs.price_call(large, book).cost_usd == pytest.approx(300_000 * tier / 1e6)


# -- real samples ----------------------------------------------------------------------------
def test_techrevati_session_with_cache_matches_hand_computed_figure(samples: Engine) -> None:
    run = techrevati_run(samples, "v0.1.0/completed.jsonl#researcher/discovery")
    book = prices.load_price_book(samples, user_path=NO_USER_FILE)
    calls = costs.load_calls(samples, [run])
    computed = [costs.price_call(c, book).computed_usd for c in calls]
    # pricing.json: model-a 3 / 15 / cache write 3.75 / cache read 0.3; model-b 0.8 / 4 / 1.0 / 0.08
    # model-a: 1200 x 3 + 300 x 15 + 800 x 3.75           = 11 100
    # model-a-20260514 (priced as model-a): 400 x 3 + 120 x 15 + 800 x 0.3 = 3 240
    # model-b: 900 x 0.8 + 200 x 4 + 300 x 1.0 + 500 x 0.08 = 1 860
    assert sorted(computed) == pytest.approx(sorted([0.0111, 0.00324, 0.00186]))
    summary = costs.run_costs(samples, [run], book)[run]
    assert summary.cost_usd == pytest.approx(0.0162)
    assert summary.provenance == "reported"  # the session wrote its own cost_usd
    assert (summary.input_tokens, summary.output_tokens) == (2500, 620)
    assert (summary.cache_read_tokens, summary.cache_write_tokens) == (1300, 1100)


def test_loopengt_run_priced_from_user_file_by_hand(samples: Engine, tmp_path: Path) -> None:
    book = book_with(
        tmp_path, samples, {"gpt-4o-mini": {"input": 1, "output": 2}, "gpt-4o": {"input": 10, "output": 20}}
    )
    run = loop_run(samples, "research-brief")
    summary = costs.run_costs(samples, [run], book)[run]
    # gather (researcher, gpt-4o-mini): 160 / 52; outline and draft (writer, gpt-4o): 170 / 54 and 150 / 50
    assert summary.cost_usd == pytest.approx((160 * 1 + 52 * 2 + 320 * 10 + 104 * 20) / 1e6)
    assert summary.provenance == "computed" and summary.calls == 3
    assert set(summary.prices) == {"gpt-4o", "gpt-4o-mini"}


def test_unpriced_calls_are_counted_never_summed_as_zero(samples: Engine) -> None:
    book = prices.load_price_book(samples, user_path=NO_USER_FILE)
    digest = loop_run(samples, "weekly-digest")  # llama3.1:8b on ollama: no public price
    summary = costs.run_costs(samples, [digest], book)[digest]
    assert summary.cost_usd is None and summary.provenance == "unpriced"
    assert (summary.unpriced_calls, summary.unpriced_tokens) == (2, 436)
    assert summary.unpriced_models == ["llama3.1:8b"]
    # techrevati writes cost_usd 0.0 for a model missing from its table: not a real $0.
    usage_only = techrevati_run(samples, "v0.4.0/usage_only.usage.jsonl#")
    summary = costs.run_costs(samples, [usage_only], book)[usage_only]
    assert summary.cost_usd == pytest.approx(0.0018 + 0.001112)
    assert (summary.unpriced_calls, summary.unpriced_tokens, summary.unpriced_models) == (
        1,
        380,
        ["local-llm"],
    )
    row = next(s for s in costs.costs_by(samples, "model", book) if s.key == "local-llm")
    assert row.cost_usd is None and row.to_dict()["cost_usd"] is None and row.provenance == "unpriced"


def test_groupings_add_up_to_the_same_total(samples: Engine) -> None:
    book = prices.load_price_book(samples, user_path=NO_USER_FILE)
    totals = {}
    for by in costs.GROUPINGS:
        rows = costs.costs_by(samples, by, book)
        totals[by] = (
            round(sum(r.cost_usd or 0 for r in rows), 12),
            sum(r.input_tokens for r in rows),
            sum(r.unpriced_calls for r in rows),
        )
    assert len(set(totals.values())) == 1, totals
    frameworks = {r.key for r in costs.costs_by(samples, "framework", book)}
    assert {"loopengt", "techrevati", "harness"} <= frameworks
    models = {r.key for r in costs.costs_by(samples, "model", book)}
    assert {"gpt-4o", "gpt-4o-mini", "llama3.1:8b", "model-a", "model-b", "model-c"} <= models


def test_cost_between_two_checkpoints_is_the_segment(samples: Engine, tmp_path: Path) -> None:
    book = book_with(
        tmp_path, samples, {"gpt-4o-mini": {"input": 1, "output": 2}, "gpt-4o": {"input": 10, "output": 20}}
    )
    run = loop_run(samples, "research-brief")  # a checkpoint after each of gather, outline, draft
    with samples.connect() as connection:
        cps = (
            connection.execute(
                select(Checkpoint.id).where(Checkpoint.run_id == run).order_by(Checkpoint.created_at)
            )
            .scalars()
            .all()
        )
    assert len(cps) == 3
    first = costs.cost_between_checkpoints(samples, run, None, cps[0], book)
    assert (first.calls, first.input_tokens, first.output_tokens) == (1, 160, 52)
    assert first.cost_usd == pytest.approx((160 + 104) / 1e6)
    middle = costs.cost_between_checkpoints(samples, run, cps[0], cps[1], book)
    assert (middle.calls, middle.input_tokens, middle.output_tokens) == (1, 170, 54)
    assert middle.cost_usd == pytest.approx((1700 + 1080) / 1e6)


# -- price sources ---------------------------------------------------------------------------
def test_editing_the_prices_file_recomputes_without_reingesting(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    ingest_paths([SAMPLE_RUNS / "loopengt"], Store(engine))
    with engine.connect() as connection:
        files_before = connection.execute(select(SourceFile.path, SourceFile.loaded_at)).all()
        events_before = connection.execute(select(Event.id)).scalars().all()
    digest = loop_run(engine, "weekly-digest")
    path = tmp_path / "prices.toml"
    monkeypatch.setenv("BATON_PRICES", str(path))
    write_prices(path, {"llama3.1": {"input": 1, "output": 2}})  # also prices llama3.1:8b (a tag)
    first = costs.run_costs(engine, [digest])[digest]
    assert first.provenance == "computed" and first.cost_usd == pytest.approx((330 + 212) / 1e6)
    write_prices(path, {"llama3.1:8b": {"input": 10, "output": 20, "date": 2026}})
    second = costs.run_costs(engine, [digest])[digest]
    assert second.cost_usd == pytest.approx((3300 + 2120) / 1e6)
    assert list(second.prices.values()) == [f"user: {path} (2026)"]
    with engine.connect() as connection:
        assert connection.execute(select(SourceFile.path, SourceFile.loaded_at)).all() == files_before
        assert connection.execute(select(Event.id)).scalars().all() == events_before
    engine.dispose()


def test_user_file_beats_ingested_file_beats_library(samples: Engine, tmp_path: Path) -> None:
    library = prices.load_price_book(samples, user_path=NO_USER_FILE)
    assert library.lookup("gpt-4o-mini").origin == "genai-prices"
    assert library.lookup("gpt-4o-mini").name == "openai/gpt-4o-mini"
    ingested = library.lookup("model-a-20260514")
    assert ingested.origin == "ingested" and ingested.name == "model-a" and ingested.input == 3.0
    assert ingested.source.endswith("pricing.json")
    mine = book_with(
        tmp_path, samples, {"gpt-4o-mini": {"input": 9, "output": 9}, "model-a": {"input": 1, "output": 1}}
    )
    assert mine.lookup("gpt-4o-mini").origin == "user" and mine.lookup("gpt-4o-mini").input == 9
    assert mine.lookup("model-a-20260514").origin == "user"
    # a version suffix never stretches one model's price to another model
    assert mine.lookup("gpt-4o-mini-tts") is None or mine.lookup("gpt-4o-mini-tts").origin != "user"
    assert library.lookup("no-such-model-anywhere") is None
    # a price for one model generation never prices the next one (claude-opus-4 vs -4-5)
    newer = book_with(tmp_path, samples, {"claude-opus-4": {"input": 15, "output": 75}})
    assert newer.lookup("claude-opus-4-5").origin == "genai-prices"
    assert newer.lookup("claude-opus-4-20250514").origin == "user"


def test_broken_prices_file_gives_warnings_and_keeps_valid_models(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[models."good"]\ninput = 1\noutput = 2\n[models."bad"]\ninput = "cheap"\n', encoding="utf-8"
    )
    found, warnings = prices.load_user_prices(path)
    assert set(found) == {"good"}
    assert len(warnings) == 1 and "models.bad" in warnings[0] and "input" in warnings[0]
    path.write_text("[models\nnot toml", encoding="utf-8")
    found, warnings = prices.load_user_prices(path)
    assert found == {} and "cannot read it" in warnings[0]


def test_genai_prices_are_read_offline_and_never_from_an_updated_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from genai_prices import data_snapshot

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    prices.genai_snapshot.cache_clear()
    prices.library_price.cache_clear()
    # Even if something in the process installed an auto-updated (fetched) snapshot,
    # Baton reads its own snapshot of the bundled data.
    empty = data_snapshot.DataSnapshot(providers=[], from_auto_update=True)
    monkeypatch.setattr(data_snapshot, "_custom_snapshot", empty)
    price = prices.load_price_book(None, user_path=NO_USER_FILE).lookup("gpt-4o")
    assert price is not None and price.origin == "genai-prices" and price.input > 0
    assert "bundled data" in price.source
    assert prices.genai_snapshot().from_auto_update is False
    assert prices.genai_snapshot() is not data_snapshot.get_snapshot()


# -- techrevati's own cost code --------------------------------------------------------------
TRACKER_SCRIPT = """
import json, sys
from techrevati.runtime import UsageSnapshot, UsageTracker
from techrevati.runtime.usage_tracking import load_pricing_from_file
request = json.load(sys.stdin)
load_pricing_from_file(request["pricing"])
totals = {}
for run, turns in request["runs"].items():
    tracker = UsageTracker()
    for model, usage in turns:
        tracker.record_turn(model, UsageSnapshot.from_dict(usage))
    totals[run] = tracker.total_cost()
print(json.dumps(totals))
"""


def techrevati_costs(version: str, pricing: Path, runs: dict[str, list]) -> dict[str, float]:
    """What techrevati-runtime ``version`` itself charges for each run's ``[model, usage]``
    turns under the pricing file ``pricing``."""
    python = framework_python("techrevati-runtime", version)
    result = subprocess.run(
        [str(python), "-c", TRACKER_SCRIPT],
        input=json.dumps({"pricing": str(pricing), "runs": runs}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("version", ["0.1.0", "0.4.0"])
def test_techrevati_own_session_cost_equals_ours(samples: Engine, tmp_path: Path, version: str) -> None:
    folder = SAMPLE_RUNS / "techrevati" / f"v{version}"
    book = prices.load_price_book(samples, user_path=NO_USER_FILE)
    runs: dict[str, list] = {}
    ours: dict[str, float] = {}
    with samples.connect() as connection:
        rows = connection.execute(
            select(Run.id, Run.attributes, Event.model, Event.data)
            .join(Run, Run.id == Event.run_id)
            .where(Run.framework == "techrevati", Event.kind == "usage")
        ).all()
    for run, attributes, model, data in rows:
        if attributes.get("source", "").startswith(str(folder)):
            runs.setdefault(run, []).append([model, data["usage"]])
    assert len(runs) >= 8
    if version == "0.4.0":  # 1-hour cache writes, priced from the ingested pricing.json's own rate
        assert any(u.get("cache_ttl") == "1h" for turns in runs.values() for _, u in turns)
    for run in runs:
        calls = costs.load_calls(samples, [run], events_only=True)
        priced = [costs.price_call(c, book) for c in calls]
        ours[run] = sum(p.computed_usd or 0.0 for p in priced)
    theirs = techrevati_costs(version, folder / "pricing.json", runs)
    assert theirs == pytest.approx(ours, abs=1e-12)
    assert any(value > 0 for value in theirs.values())


def test_one_hour_cache_writes_match_techrevati_with_a_user_price(samples: Engine, tmp_path: Path) -> None:
    run = techrevati_run(samples, "v0.4.0/completed.jsonl#researcher/discovery")
    spec = json.loads((SAMPLE_RUNS / "techrevati" / "v0.4.0" / "pricing.json").read_text())["models"][
        "model-b"
    ]
    book = book_with(
        tmp_path,
        samples,
        {
            "model-b": {
                "input": spec["input_per_million"],
                "output": spec["output_per_million"],
                "cache_read": spec["cache_read_per_million"],
                "cache_write": spec["cache_write_per_million"],
                "cache_write_1h": spec["cache_write_1h_per_million"],
            }
        },
    )
    calls = costs.load_calls(samples, [run])
    hour = [c for c in calls if c.cache_ttl == "1h"]
    assert len(hour) == 1
    # what the package itself recorded for that turn (900 x 0.8 + 200 x 4 + 300 x 1.6 + 500 x 0.08)
    assert costs.price_call(hour[0], book).computed_usd == pytest.approx(hour[0].reported_usd)
    assert hour[0].reported_usd == pytest.approx(0.00204)


def test_five_minute_cache_writes_match_techrevati_when_their_rate_differs(tmp_path: Path) -> None:
    """A pricing.json whose 5-minute rate is not the base cache-write rate: a "5m" write is
    billed at the 5-minute rate, a write of no stated lifetime at the base, as techrevati's
    own UsageTracker does."""
    pricing = json.loads((SAMPLE_RUNS / "techrevati" / "v0.4.0" / "pricing.json").read_text())
    pricing["models"]["model-a"]["cache_write_5min_per_million"] = 4.5  # base stays 3.75
    folder = tmp_path / "prices"
    folder.mkdir()
    (folder / "pricing.json").write_text(json.dumps(pricing))
    engine = make_engine(f"sqlite:///{tmp_path / 'baton.db'}")
    assert ingest_paths([folder], Store(engine)).files_loaded == 1
    book = prices.load_price_book(engine, user_path=NO_USER_FILE)
    turns = [
        {"input_tokens": 1000, "output_tokens": 200, "cache_write_tokens": 4000, "cache_read_tokens": 0},
        {"input_tokens": 10, "output_tokens": 20, "cache_write_tokens": 3000, "cache_read_tokens": 50}
        | {"cache_ttl": "5m"},
        {"input_tokens": 0, "output_tokens": 0, "cache_write_tokens": 2000, "cache_read_tokens": 0}
        | {"cache_ttl": "1h"},
    ]
    ours = {}
    for index, usage in enumerate(turns):
        call = Call(
            f"turn-{index}",
            "techrevati",
            model="model-a",
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cache_read_tokens=usage["cache_read_tokens"],
            cache_write_tokens=usage["cache_write_tokens"],
            cache_ttl=usage.get("cache_ttl"),
        )
        ours[f"turn-{index}"] = costs.price_call(call, book).computed_usd
    runs = {f"turn-{index}": [["model-a", usage]] for index, usage in enumerate(turns)}
    assert techrevati_costs("0.4.0", folder / "pricing.json", runs) == pytest.approx(ours, abs=1e-12)
    assert ours["turn-1"] == pytest.approx((10 * 3 + 20 * 15 + 3000 * 4.5 + 50 * 0.3) / 1e6)
    engine.dispose()

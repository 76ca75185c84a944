"""Claude Code transcripts over the hand-made samples (sample_runs/claude_code/README.md says
what each session shows), loaded through the real loader into a real database: runs, agents,
tokens, costs (figures computed by hand from genai-prices' bundled Anthropic rates, 1-hour
cache writes at their own rate), statuses, failure classes, checkpoints and forks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import queries
from core.costs import run_costs
from core.failures import failed_runs
from core.prices import load_price_book
from core.store import Store
from core.tables import Event
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

SAMPLES = SAMPLE_RUNS / "claude_code"


def sid(n: int) -> str:
    return f"c0de0000-0000-4000-8000-{n:012d}"


@pytest.fixture
def loaded(engine: Engine, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Engine:
    (tmp_path / "prices.toml").write_text("[models]\n")  # no user prices: genai-prices' alone
    monkeypatch.setenv("BATON_PRICES", str(tmp_path / "prices.toml"))
    summary = ingest_paths([SAMPLES], Store(engine))
    assert (summary.files_loaded, summary.files_failed) == (14, 0)
    return engine


def run_of(engine: Engine, n: int) -> dict[str, Any]:
    (run,) = [r for r in queries.list_runs(engine, framework="claude_code") if r["native_id"] == sid(n)]
    return run


def events_of(engine: Engine, run_id: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(Event).where(Event.run_id == run_id).order_by(Event.seq)))


def cost(engine: Engine, n: int) -> Any:
    run = run_of(engine, n)
    return run_costs(engine, [run["id"]], load_price_book(engine)).get(run["id"])


def test_one_run_per_session_and_subagents_are_agents_not_runs(loaded: Engine) -> None:
    runs = queries.list_runs(loaded, framework="claude_code")
    assert sorted(r["native_id"] for r in runs) == sorted(sid(n) for n in range(1, 14))
    sub = run_of(loaded, 2)
    assert sub["agents"] == ["main", "a7e3f19"]
    assert sub["attributes"]["agent_types"] == {"a7e3f19": "Explore"}
    assert run_of(loaded, 12)["agents"] == ["main", "sidechain"]  # 1.0.x inline sidechain lines


def test_run_shows_cwd_branch_version_and_first_prompt(loaded: Engine) -> None:
    run = run_of(loaded, 1)
    assert run["task"] == "Add a /health endpoint to the Flask app and test it"
    assert run["attributes"]["cwd"] == "/home/dev/webapp"
    assert run["attributes"]["git_branch"] == "feature/health"
    assert run["attributes"]["version"] == "2.1.152"
    assert run["attributes"]["title"] == "Health endpoint"


def test_tokens_count_each_response_once(loaded: Engine) -> None:
    normal = run_of(loaded, 1)  # msg_01A written as two lines; progress usage (9999) not counted
    assert (normal["input_tokens"], normal["output_tokens"]) == (4 + 6 + 5 + 3, 120 + 240 + 60 + 150)
    assert normal["cache_read_tokens"] == 12000 + 12800 + 13100
    assert normal["cache_write_tokens"] == 12000 + 800 + 300 + 200
    streamed = run_of(loaded, 5)  # three streamed lines and a /btw replay: one call, largest usage
    assert (streamed["input_tokens"], streamed["output_tokens"], streamed["cache_write_tokens"]) == (
        7,
        310,
        600,
    )
    calls = [e for e in events_of(loaded, streamed["id"]) if e.kind == "llm_call"]
    assert len(calls) == 1
    sub = run_of(loaded, 2)  # the subagent's own calls; echoed agent_progress/toolUseResult usage not
    assert sub["output_tokens"] == 80 + 60 + 40 + 200
    agents = {e.agent_id for e in events_of(loaded, sub["id"]) if e.kind == "llm_call"}
    assert agents == {"main", "a7e3f19"}


def test_resumed_session_does_not_count_copied_messages(loaded: Engine) -> None:
    original, resumed = run_of(loaded, 9), run_of(loaded, 10)
    assert (original["input_tokens"], original["output_tokens"]) == (25, 300)
    assert (resumed["input_tokens"], resumed["output_tokens"]) == (30, 120)
    assert resumed["task"] == "Set up a Makefile with test and lint targets"
    assert [cp["summary"] for cp in queries.run_checkpoints(loaded, resumed["id"])] == [
        "Add a format target too"
    ]


def test_costs_by_hand_with_one_hour_cache_writes(loaded: Engine) -> None:
    # USD per 1M: sonnet 4.5 / 4 / 3.7: in 3, out 15, read 0.3, 5m write 3.75, 1h write 6;
    # haiku 4.5: 1, 5, 0.1, 1.25, 2.
    expected = {
        1: (4 * 3 + 120 * 15 + 12000 * 6)
        + (6 * 3 + 240 * 15 + 12000 * 0.3 + 800 * 6)
        + (5 * 3 + 60 * 15 + 12800 * 0.3 + 100 * 3.75 + 200 * 6)
        + (3 * 3 + 150 * 15 + 13100 * 0.3 + 200 * 3.75),
        2: (10 * 3 + 80 * 15 + 5000 * 6)
        + (8 * 3 + 60 * 15 + 5000 * 0.3)
        + (50 + 40 * 5 + 2000 * 1.25)
        + (30 + 200 * 5 + 2000 * 0.1),
        3: (20 * 3 + 900 * 15 + 150000 * 0.3 + 9000 * 6) + (12 * 3 + 400 * 15 + 3000 * 6),
        5: 7 * 3 + 310 * 15 + 4000 * 0.3 + 600 * 6,
        7: 9 * 3 + 50 * 15 + 3000 * 3.75,  # a 5-minute write
        9: 25 * 3 + 300 * 15 + 1800 * 3.75,  # scalar only (1.0.62): the 5-minute rate
        10: 30 * 3 + 120 * 15 + 1800 * 0.3 + 200 * 3.75,
    }
    for n, micro in expected.items():
        summary = cost(loaded, n)
        assert summary.provenance == "computed", n
        assert summary.cost_usd == pytest.approx(micro / 1e6), n
    old = cost(loaded, 12)  # 1.0.3 wrote costUSD on each line
    assert old.provenance == "reported"
    assert old.cost_usd == pytest.approx(0.00105 + 0.00028 + 0.0027)
    unknown = cost(loaded, 13)
    assert unknown.provenance == "unpriced" and unknown.cost_usd is None
    assert unknown.unpriced_models == ["qwen3-coder-30b-local"]


def test_statuses_and_failure_classes(loaded: Engine) -> None:
    statuses = {n: run_of(loaded, n)["status"] for n in range(1, 14)}
    assert statuses == {
        1: "completed", 2: "completed", 3: "completed", 4: "completed", 5: "completed",
        6: "failed", 7: "paused", 8: "failed", 9: "completed", 10: "completed",
        11: "failed", 12: "completed", 13: "completed",
    }  # fmt: skip
    assert "status" in run_of(loaded, 1)["inferred"]
    infos = {i.run_id: i for i in failed_runs(loaded)}
    limit = infos[run_of(loaded, 6)["id"]]
    assert limit.failure_class == "rate_limit"
    assert limit.reason == "You've hit your session limit · resets 7:30pm (Europe/Paris)"
    assert run_of(loaded, 6)["failure_signals"]["resets_at"] == "2026-05-14T17:30:00+00:00"
    assert infos[run_of(loaded, 8)["id"]].failure_class == "llm_error"
    assert infos[run_of(loaded, 8)["id"]].reason.startswith("API Error: 500")
    assert infos[run_of(loaded, 11)["id"]].failure_class == "context_overflow"


def test_events_mark_tool_errors_api_errors_interrupts_and_compaction(loaded: Engine) -> None:
    interrupted = events_of(loaded, run_of(loaded, 7)["id"])
    (result,) = [e for e in interrupted if e.name == "tool_result"]
    assert result.error == "[Request interrupted by user for tool use]"
    assert [e.name for e in interrupted if e.kind == "lifecycle"] == ["interrupt"]
    api = events_of(loaded, run_of(loaded, 8)["id"])
    assert [e.name for e in api if e.kind in ("error", "recovery")] == ["api_retry"] * 3 + ["api_error"]
    tools = [(e.name, e.tool) for e in events_of(loaded, run_of(loaded, 1)["id"]) if e.kind == "tool_call"]
    assert [t for n, t in tools if n == "tool_use"] == ["Read", "Edit", "Bash"]
    call = next(e for e in events_of(loaded, run_of(loaded, 1)["id"]) if e.kind == "llm_call")
    assert (call.model, call.input_tokens, call.output_tokens) == ("claude-sonnet-4-5-20250929", 4, 120)
    compaction = [e for e in events_of(loaded, run_of(loaded, 3)["id"]) if e.name == "compaction"]
    assert compaction[0].data == {"trigger": "auto", "preTokens": 167094}


def test_checkpoints_per_prompt_and_compaction_with_forks(loaded: Engine) -> None:
    compacted = queries.run_checkpoints(loaded, run_of(loaded, 3)["id"])
    kinds = [cp["attributes"]["kind"] for cp in compacted]
    assert kinds == ["prompt", "compaction", "prompt"]
    by_id = {cp["id"]: cp for cp in compacted}
    assert by_id[compacted[1]["parent_id"]]["summary"] == "Refactor the user model into its own module"
    assert compacted[2]["parent_id"] == compacted[1]["id"]
    rewound = queries.run_checkpoints(loaded, run_of(loaded, 4)["id"])
    first = next(cp for cp in rewound if cp["parent_id"] is None)
    children = sorted(cp["summary"] for cp in rewound if cp["parent_id"] == first["id"])
    assert children == ["Make it keep unicode letters", "Make it transliterate to ASCII instead"]
    assert len(queries.run_checkpoints(loaded, run_of(loaded, 2)["id"])) == 1  # subagent prompts are not

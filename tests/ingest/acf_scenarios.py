"""What a user should see for each scenario of sample_runs/acf (see its README): shared by the
parser test on the committed samples and the interop test on freshly generated files."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core import queries


@dataclass(frozen=True)
class Scenario:
    status: str
    checkpoints: int
    roots: int
    tips: int
    agents: tuple[str, ...]
    failure: str | None = None


SCENARIOS = {
    "Summarise Q3 customer interviews into a findings memo": Scenario(
        "completed", 3, 1, 1, ("summarizer-01",)
    ),
    "Triage overnight CI failures for payments-service": Scenario(
        "failed", 2, 1, 1, ("ci-triage-01",), "Rate limit reached"
    ),
    "Draft GDPR data-retention policy": Scenario("paused", 2, 1, 1, ("policy-writer-01",)),
    "Migrate billing DB to schema v7": Scenario("completed", 4, 1, 1, ("migrator-01", "migrator-02")),
    "Generate a unit-test suite for parser.py": Scenario("completed", 3, 1, 2, ("tester-01", "tester-02")),
    "Scrape competitor pricing pages": Scenario("completed", 4, 2, 2, ("scraper-01", "scraper-02")),
    "Write the launch blog post for Baton 1.0": Scenario(
        "completed", 3, 1, 1, ("researcher-01", "writer-01", "editor-01")
    ),
    "Index support tickets into the vector store": Scenario(
        "failed", 3, 1, 1, ("indexer-01",), "Connection refused"
    ),
}


def assert_acf_scenarios(engine: Engine, expected_copies: int = 1) -> None:
    """Every scenario appears ``expected_copies`` times with the documented shape."""
    runs = [run for run in queries.list_runs(engine, framework="acf") if run["task"] in SCENARIOS]
    for summary, scenario in SCENARIOS.items():
        matching = [run for run in runs if run["task"] == summary]
        assert len(matching) == expected_copies, (summary, len(matching))
        for run in matching:
            checkpoints = queries.run_checkpoints(engine, run["id"])
            ids = {cp["id"] for cp in checkpoints}
            parents = {cp["parent_id"] for cp in checkpoints}
            roots = [cp for cp in checkpoints if cp["parent_id"] is None]
            tips = [cp for cp in checkpoints if cp["id"] not in parents]
            assert run["status"] == scenario.status, (summary, run["status"])
            assert len(checkpoints) == run["checkpoints"] == scenario.checkpoints, summary
            assert all(parent in ids for parent in parents - {None}), summary
            assert (len(roots), len(tips)) == (scenario.roots, scenario.tips), summary
            assert sorted(run["agents"]) == sorted(scenario.agents), (summary, run["agents"])
            if scenario.failure:
                assert scenario.failure in (run["failure_reason"] or ""), (summary, run["failure_reason"])
            else:
                assert run["failure_reason"] is None, (summary, run["failure_reason"])
            assert run["input_tokens"] is None and run["cost_usd"] is None  # ACF records no usage

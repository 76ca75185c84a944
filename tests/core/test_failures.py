"""The failure taxonomy on every failed run of sample_runs/, on a real database."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import failures, queries
from core.db import make_engine
from core.failures import FailureInfo
from core.store import Store
from core.tables import Checkpoint
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

# Every failed run of sample_runs/, one line each: (framework, label) -> (class, how many runs).
# Labels: ACF task summary, loopengt loop name, harness run id (stable across regenerations),
# techrevati "<version>/<file>#<role>" or "worker <role>-<phase>" (worker ids are random).
EXPECTED = {
    # ACF (each scenario once per version folder)
    ("acf", "Triage overnight CI failures for payments-service"): ("rate_limit", 2),  # 429 TPM
    ("acf", "Index support tickets into the vector store"): ("tool_error", 2),  # Tool 'vector_upsert' failed
    # loopengt
    ("loopengt", "nightly-etl"): ("tool_error", 1),  # Tool 'warehouse_insert' failed: permission denied
    ("loopengt", "competitor-scan"): ("context_overflow", 1),  # TaskGroup wrapper; step scan_beta's 400
    ("loopengt", "cli-missing-agent"): ("config_error", 1),  # Agent not found: ghost
    # react-agent-harness 0.0.2
    ("harness", "a894fe3f-3c89-4541-9fa5-688b42f2ea79"): ("interrupted", 1),  # crash_periodic: SIGKILL
    ("harness", "ade96b81-ad98-4cb4-b257-03f307bda161"): ("max_steps", 1),  # fail_max_steps
    ("harness", "31802e7c-5dca-4ac3-b938-3c52bc4d9d18"): ("validation_error", 1),  # fail_unparseable
    ("harness", "b5a54011-96d6-45b5-90fa-9b815483e432"): ("budget_exceeded", 1),  # fail_budget
    ("harness", "8d319eb3-39f1-4239-a476-4fbb3163acb5"): ("interrupted", 1),  # orchestrated_killed
    # react-agent-harness 0.14.0
    ("harness", "ab3a2bfc-06b6-43e9-8a61-33395e261a47"): ("interrupted", 1),  # crash_periodic
    ("harness", "5b3d802c-a338-495d-bb68-f2e8eacf358a"): ("max_steps", 1),  # fail_max_steps
    ("harness", "84d1f4db-857d-4690-a30f-7dafa3912456"): ("validation_error", 1),  # fail_unparseable
    ("harness", "b3897b10-aa92-49fa-b5ec-dd5870397b89"): ("budget_exceeded", 1),  # fail_budget
    ("harness", "db4058ba-3509-4442-bd42-88ec7ea36da2"): ("interrupted", 1),  # orchestrated_killed
    ("harness", "b9795b8c-7048-4575-9d64-5cd58697cd06"): ("interrupted", 1),  # subagent_killed: lead
    ("harness", "35cdd0c1-f183-4248-958c-5bb0ac3e6fc4"): ("interrupted", 1),  # subagent_killed: sub-run
    ("harness", "session:ops-chat"): ("validation_error", 1),  # PersistentAgent turn: Unparseable response
    # techrevati-runtime 0.1.0
    ("techrevati", "v0.1.0/failures.jsonl#analyst"): ("llm_timeout", 1),  # model call timed out
    ("techrevati", "v0.1.0/failures.jsonl#researcher"): ("dependency_failed", 1),  # connection reset
    ("techrevati", "v0.1.0/circuit.events.json#fetcher"): ("dependency_failed", 1),  # breaker OPEN
    ("techrevati", "v0.1.0/budget.jsonl#writer"): ("budget_exceeded", 1),  # class llm_error in 0.1
    # techrevati-runtime 0.4.0
    ("techrevati", "v0.4.0/failures.jsonl#analyst"): ("llm_timeout", 1),  # TimeoutError raised
    ("techrevati", "v0.4.0/failures.jsonl#researcher"): ("dependency_failed", 1),  # ConnectionError raised
    ("techrevati", "v0.4.0/circuit.events.json#fetcher"): ("dependency_failed", 1),  # CircuitOpenError
    ("techrevati", "v0.4.0/budget.audit.jsonl#writer"): ("budget_exceeded", 1),  # class rate_limit in 0.4
    ("techrevati", "v0.4.0/audited.sqlite#operator"): ("policy_blocked", 1),  # GuardrailViolatedError
    # one session in a JSONL sink, an SQLite store, an audit log and a summary: one failed run
    ("techrevati", "v0.4.0/duplicates.audit.jsonl#reviewer"): ("dependency_failed", 1),
    # techrevati worker dumps and session summaries are their streams' runs above (no run of their own)
    # Codex CLI and Gemini CLI (hand-made samples)
    ("codex", "01a0a025-7708-7877-bf2f-650458e00e8c"): (
        "rate_limit",
        1,
    ),  # limit reached, turn never completed
    ("codex", "01a0a113-e230-7537-85f6-ffa81b8e8d8d"): ("llm_error", 1),  # error event, internal_server_error
    ("gemini_cli", "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"): ("rate_limit", 1),  # RESOURCE_EXHAUSTED quota
    # OTel traces (sample_runs/otel/README.md): by task, else service and agents
    ("otel", "Where is my order B-2002?"): ("rate_limit", 1),  # GenAI, RateLimitError (429)
    ("otel", "Where is my order F-6006?"): ("rate_limit", 1),
    ("otel", "Where is my order X-1?"): ("rate_limit", 2),  # OpenInference and OpenLLMetry
    ("otel", "techrevati-demo fetcher"): ("dependency_failed", 1),  # techrevati error.type
    # Claude Code sessions (sample_runs/claude_code/README.md)
    ("claude_code", "c0de0000-0000-4000-8000-000000000006"): ("rate_limit", 1),  # session limit
    ("claude_code", "c0de0000-0000-4000-8000-000000000008"): ("llm_error", 1),  # API Error: 500
    ("claude_code", "c0de0000-0000-4000-8000-000000000011"): ("context_overflow", 1),  # prompt is too long
    # LangGraph: a tool node raised ConnectionError('... upstream returned 503 ...')
    ("langgraph", "lgcs-1.0.4/checkpoints.sqlite#node-error"): ("dependency_failed", 1),
    ("langgraph", "lgcs-2.0.11/checkpoints.sqlite#node-error"): ("dependency_failed", 1),
    ("langgraph", "lgcs-3.1.2/checkpoints.sqlite#node-error"): ("dependency_failed", 1),
}
ROOT = str(SAMPLE_RUNS / "techrevati") + "/"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('failures') / 'baton.db'}")
    ingest_paths([SAMPLE_RUNS], Store(engine))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def infos(samples: Engine) -> list[FailureInfo]:
    return failures.failed_runs(samples)


def label(run: dict) -> tuple[str, str]:
    framework, native = run["framework"], run["native_id"]
    if framework in ("acf", "loopengt"):
        return framework, run["task"]
    if framework == "techrevati":
        attributes = run["attributes"]
        if native == attributes.get("worker_id"):
            return framework, "worker " + re.sub(r"-[0-9a-f]{8}$", "", native)
        sources = sorted(attributes.get("sources") or [attributes["source"]])
        path = next((s for s in sources if not s.endswith(".summary.json")), sources[0])
        return framework, f"{path.removeprefix(ROOT)}#{attributes.get('role')}"
    if framework == "otel":
        return framework, run["task"] or f"{run['attributes'].get('service.name')} {','.join(run['agents'])}"
    if framework == "langgraph":
        thread, _, database = native.partition("@")
        return framework, f"{database.rsplit('/', 2)[-2]}/{database.rsplit('/', 1)[-1]}#{thread}"
    return framework, native


def by_label(engine: Engine, infos: list[FailureInfo]) -> dict[tuple[str, str], list[FailureInfo]]:
    found: dict[tuple[str, str], list[FailureInfo]] = {}
    for info in infos:
        found.setdefault(label(queries.get_run(engine, info.run_id)), []).append(info)
    return found


def test_every_failed_sample_run_has_its_listed_class(samples: Engine, infos: list[FailureInfo]) -> None:
    found = by_label(samples, infos)
    assert set(found) == set(EXPECTED), (
        "a failed run is missing from EXPECTED, or an expected one did not fail"
    )
    for key, (failure_class, count) in EXPECTED.items():
        classes = [info.failure_class for info in found[key]]
        assert classes == [failure_class] * count, (
            key,
            [(i.failure_class, i.rule, i.reason) for i in found[key]],
        )
    # the original text is kept next to the class
    for info in infos:
        run = queries.get_run(samples, info.run_id)
        assert info.reason == run["failure_reason"] or run["failure_reason"] is None
        assert info.failure_class in failures.CLASSES


def test_where_it_failed_is_found(samples: Engine, infos: list[FailureInfo]) -> None:
    found = by_label(samples, infos)
    etl = found[("loopengt", "nightly-etl")][0]
    assert (etl.step, etl.tool, etl.agent) == ("load", "warehouse_insert", "loader")
    scan = found[("loopengt", "competitor-scan")][0]
    assert scan.step == "scan_beta" and scan.agent == "scanner"
    assert scan.reason.startswith("Unexpected error: unhandled errors in a TaskGroup")  # original kept
    assert "maximum context length" in scan.normalized_reason  # the decisive text groups it
    ghost = found[("loopengt", "cli-missing-agent")][0]
    assert (ghost.step, ghost.agent, ghost.last_good_checkpoint) == ("execute", "ghost", None)
    for info in found[("acf", "Index support tickets into the vector store")]:
        assert (info.tool, info.agent, info.step) == ("vector_upsert", "indexer-01", "upsert vectors")
    breaker = found[("techrevati", "v0.1.0/circuit.events.json#fetcher")][0]
    assert breaker.agent == "fetcher" and breaker.rule == "techrevati circuit_breaker=open"


def _checkpoints(engine: Engine, run_id: str) -> list:
    with engine.connect() as connection:
        return connection.execute(
            select(Checkpoint).where(Checkpoint.run_id == run_id).order_by(Checkpoint.created_at)
        ).all()


def test_last_good_checkpoint_is_the_newest_usable_one_before_the_failure(
    samples: Engine, infos: list[FailureInfo]
) -> None:
    found = by_label(samples, infos)
    # loopengt nightly-etl: checkpoints after extract, after transform, after load failed
    etl = found[("loopengt", "nightly-etl")][0]
    cps = _checkpoints(samples, etl.run_id)
    assert [cp.step for cp in cps] == [0, 1, 2]
    assert etl.last_good_checkpoint == cps[1].id
    # ACF ticket indexing: c1 partial, c2 partial, c3 failed (one JSONL file)
    for info in found[("acf", "Index support tickets into the vector store")]:
        cps = _checkpoints(samples, info.run_id)
        assert [cp.status for cp in cps] == ["running", "running", "failed"]
        assert info.last_good_checkpoint == cps[1].id
    # harness killed runs: the checkpoint the process left on disk is where a resume starts
    for key in [
        ("harness", "a894fe3f-3c89-4541-9fa5-688b42f2ea79"),
        ("harness", "ab3a2bfc-06b6-43e9-8a61-33395e261a47"),
    ]:
        info = found[key][0]
        newest = max(_checkpoints(samples, info.run_id), key=lambda cp: cp.step)  # versions of one file
        assert info.last_good_checkpoint == newest.id and info.agent == "researcher"


def test_normalized_reasons_group_real_failures_together(samples: Engine, infos: list[FailureInfo]) -> None:
    groups = failures.group_failures(infos, "reason")
    by_key = {(g["failure_class"], g["normalized_reason"]): g for g in groups}
    # Unparseable answers with different prose and token counts are one failure
    unparseable = [g for g in groups if g["failure_class"] == "validation_error"]
    assert len(unparseable) == 1 and unparseable[0]["count"] == 3
    texts = {i.reason for i in infos if i.failure_class == "validation_error"}
    assert len(texts) >= 2  # different original texts (prose, token counts)...
    assert unparseable[0]["normalized_reason"].startswith("Unparseable response: {<v>: <v>")
    # ... and different budgets ($0.0300 > $0.0200 in techrevati) keep their own wording
    assert by_key[("budget_exceeded", "Cost budget exceeded: <n> > <n>")]["count"] == 2
    assert by_key[("budget_exceeded", "budget exceeded: <n> > <n>")]["count"] == 1
    rate = by_key[
        (
            "rate_limit",
            failures.normalize_reason(
                "LLM call failed: Error code: 429 - Rate limit reached for gpt-4o-mini in organization org-payments on "
                "tokens per min (TPM): Limit 200000, Used 199812, Requested 1450. Please try again in 1.2s. Gave up "
                "after 5 retries."
            ),
        )
    ]
    assert rate["count"] == 2 and len(rate["example_runs"]) == 2
    assert sum(g["count"] for g in groups) == len(infos)
    by_class = {g["failure_class"]: g["count"] for g in failures.group_failures(infos, "class")}
    assert by_class == dict(Counter(i.failure_class for i in infos))
    tools = {g["tool"]: g["count"] for g in failures.group_failures(infos, "tool")}
    assert tools["vector_upsert"] == 2 and tools["warehouse_insert"] == 1
    agents = {g["agent"]: g["count"] for g in failures.group_failures(infos, "agent")}
    assert agents["ci-triage-01"] == 2


def test_normalize_reason_on_real_texts() -> None:
    readme = (SAMPLE_RUNS / "loopengt" / "README.md").read_text(encoding="utf-8")
    etl = re.search(r"`(Step 'load' failed after 3 attempts: [^`]+)`", readme).group(1)
    assert failures.normalize_reason(etl) == (
        "Step <v> failed after <n> attempts: Tool <v> failed: permission denied: warehouse role lacks INSERT on orders"
    )
    doc = json.loads(
        next((SAMPLE_RUNS / "acf" / "v0.1.0" / "streams").glob("*.jsonl")).read_text().splitlines()[2]
    )
    assert failures.normalize_reason(doc["failure_reason"]) == (
        "Tool <v> failed: ConnectionError: [Errno <n>] Connection refused (qdrant:<n>) after <n> of <n> vectors"
    )
    assert (
        failures.normalize_reason(
            "worker 3f2a9c1b-7d4e-4a1b-9c2d-1e2f3a4b5c6d wrote /var/lib/app/state.json at 0xdeadbeef"
        )
        == "worker <id> wrote <path> at <hex>"
    )


def test_failed_checkpoints_of_completed_runs_classify_by_their_text() -> None:
    """Failed branches (ACF checkpoints of runs that later completed), from the real files."""
    reasons = {}
    for path in (SAMPLE_RUNS / "acf" / "v0.3.0").rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("status") == "failed":
            reasons[doc["task_summary"]] = doc["failure_reason"]
    assert (
        failures.classify_text(reasons["Migrate billing DB to schema v7"]) == "dependency_failed"
    )  # lock wait
    assert failures.classify_text(reasons["Generate a unit-test suite for parser.py"]) == "context_overflow"
    assert (
        failures.classify_text(reasons["Scrape competitor pricing pages"]) == "dependency_failed"
    )  # page load
    assert (
        failures.classify_text(reasons["Triage overnight CI failures for payments-service"]) == "rate_limit"
    )


def test_analysis_is_deterministic_and_skips_runs_that_did_not_fail(samples: Engine) -> None:
    again = [i.to_dict() for i in failures.failed_runs(samples)]
    assert again == [i.to_dict() for i in failures.failed_runs(samples)]
    completed = queries.list_runs(samples, status="completed")[0]
    assert failures.analyze_run(completed, [], []) is None


def test_unknown_text_stays_unknown_with_its_text(tmp_path: Path) -> None:
    run = {
        "id": "r",
        "framework": "acf",
        "native_id": "n",
        "status": "failed",
        "agents": ["a"],
        "failure_reason": "the frobnicator is sad",
        "failure_signals": {},
    }
    info = failures.analyze_run(run, [], [])
    assert (info.failure_class, info.reason, info.agent) == ("unknown", "the frobnicator is sad", "a")


def test_same_classes_and_checkpoints_on_every_database(db_url: str) -> None:
    engine = make_engine(db_url)
    ingest_paths([SAMPLE_RUNS / "loopengt", SAMPLE_RUNS / "techrevati" / "v0.4.0"], Store(engine))
    infos = failures.failed_runs(engine)
    found = {label(queries.get_run(engine, i.run_id)): i for i in infos}
    assert found[("loopengt", "nightly-etl")].failure_class == "tool_error"
    assert found[("loopengt", "nightly-etl")].last_good_checkpoint is not None
    assert found[("loopengt", "competitor-scan")].step == "scan_beta"
    assert found[("techrevati", "v0.4.0/audited.sqlite#operator")].failure_class == "policy_blocked"
    groups = failures.failure_groups(engine, "class")
    assert sum(g["count"] for g in groups) == len(infos)
    engine.dispose()


@pytest.mark.parametrize(
    ("text", "failure_class"),
    [  # failure texts the frameworks write, as quoted in /work/shared/formats/ and the sample READMEs
        ("Max steps (3) reached", "max_steps"),
        ("Cost budget exceeded: $0.0012 > $0.0010", "budget_exceeded"),
        ("Input token budget exceeded: 1200 > 1000", "budget_exceeded"),
        ("Time budget exceeded: 31.2s > 30s", "budget_exceeded"),
        ("Unparseable stream response: Sure! Here is the plan", "validation_error"),
        ("Tool rejected by human: no reason given", "human_rejected"),
        ("API key missing for provider 'openai'. Please set OPENAI_API_KEY or HF_TOKEN.", "config_error"),
        ("evaluator_optimizer pattern requires at least 2 steps", "config_error"),
        ("Circuit breaker 'model-api' is OPEN", "dependency_failed"),
        (
            "Step 'transform' failed after 2 attempts: LLM request failed: Error code: 429 - {'error': {'message': "
            "'Rate limit reached for gpt-4o-mini on requests per min (RPM): ...', 'code': 'rate_limit_exceeded'}}",
            "rate_limit",
        ),
        (
            "Tool 'metrics_api' failed: TimeoutError: timed out after 30s reading from metrics-api.internal:443",
            "tool_error",
        ),
        ("Lock timeout on table invoices after 30s while applying 0702 (2/2 attempts)", "dependency_failed"),
    ],
)
def test_text_rules_on_framework_failure_texts(text: str, failure_class: str) -> None:
    assert failures.classify_text(text) == failure_class


def test_checkpoints_without_times_are_ordered_along_their_parent_links() -> None:
    """Versions of an overwritten harness file carry no time: their order is the chain's."""
    import random

    from core.failures.analysis import oldest_first

    chain = [{"id": f"v{i:04d}", "parent_id": f"v{i - 1:04d}" if i else None} for i in range(2000)]
    shuffled = chain[:]
    random.Random(7).shuffle(shuffled)
    assert [cp["id"] for cp in oldest_first(shuffled)] == [cp["id"] for cp in chain]
    cycle = [{"id": "a", "parent_id": "b"}, {"id": "b", "parent_id": "a"}, {"id": "root", "parent_id": None}]
    assert oldest_first(cycle)[0]["id"] == "root"  # a cycle in the source neither hangs nor leads

"""Gemini CLI chats end to end: the hand-made samples (sample_runs/gemini_cli/README.md) in
both layouts, loaded through the real command line; runs, tokens, costs (hand-computed at
genai-prices' rates), statuses, failure classes, rewind forks and schema drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_RUNS
from tests.ingest.test_codex_sessions import cli, load_framework

GEMINI = SAMPLE_RUNS / "gemini_cli"
LEGACY = "5b0c6f3e-1d2a-4c8e-9f7b-2a6d1e4c3b90"
QUOTA = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
REWIND = "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"
CANCEL = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"

EXPECTED = {
    LEGACY: ("completed", 35_500, 23_000, 1_650, 0.035, None, 1),
    QUOTA: ("failed", 6_000, 0, 300, 0.00255, "rate_limit", 2),
    REWIND: ("completed", 19_200, 8_000, 1_100, 0.026, None, 3),
    CANCEL: ("paused", 4_000, 0, 100, 0.00145, None, 1),
}


@pytest.fixture(autouse=True)
def bundled_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "prices.toml").write_text("[models]\n", encoding="utf-8")
    monkeypatch.setenv("BATON_PRICES", str(tmp_path / "prices.toml"))


def test_each_session_is_one_run_with_hand_computed_tokens_and_costs(capsys, db_url: str) -> None:
    runs = load_framework(capsys, db_url, "gemini_cli", GEMINI)
    assert set(runs) == set(EXPECTED)
    for native, (status, inp, cached, out, cost, failure, checkpoints) in EXPECTED.items():
        run = runs[native]
        got = (run["status"], run["input_tokens"], run["cache_read_tokens"], run["output_tokens"])
        assert got == (status, inp, cached, out), native
        assert run["cost_usd"] == pytest.approx(cost, abs=1e-9) and run["cost_provenance"] == "computed"
        assert (run["failure_class"], run["checkpoints"]) == (failure, checkpoints), native
    assert runs[LEGACY]["attributes"]["layout"] == "json" and runs[QUOTA]["attributes"]["layout"] == "jsonl"
    assert runs[LEGACY]["task"] == "Why does `make test` fail on a clean checkout?"
    assert runs[LEGACY]["inferred"] == ["status"]


def test_re_appended_records_count_once_and_set_patches_the_session(capsys, db_url: str) -> None:
    run = load_framework(capsys, db_url, "gemini_cli", GEMINI)[QUOTA]
    assert run["attributes"]["summary"] == "Rename userId to accountId"  # from a $set record
    assert run["attributes"]["cwd"] == "/home/dev/webapp"
    assert run["failure_reason"].startswith("[API Error: You have exhausted your capacity")
    assert run["failure_signals"]["resets"] == "3h41m"
    assert run["ended_at"].startswith("2026-09-20T11:00:44")


def test_a_rewind_forks_the_prompt_checkpoints(capsys, db_url: str) -> None:
    run = load_framework(capsys, db_url, "gemini_cli", GEMINI)[REWIND]
    code, out = cli(capsys, "show", run["id"], "--db", db_url, "--json")
    by_native = {c["native_id"]: c for c in json.loads(out)["checkpoints"]}
    assert by_native["u-1"]["parent_id"] is None
    assert by_native["u-2"]["parent_id"] == by_native["u-3"]["parent_id"] == by_native["u-1"]["id"]
    assert by_native["u-2"]["attributes"] == {"rewound": True} and by_native["u-3"]["attributes"] == {}
    assert run["task"] == "Add a --verbose flag" and run["attributes"]["rewound_messages"] == 2


def test_a_failing_tool_call_is_marked(capsys, db_url: str) -> None:
    from tests.ingest.test_codex_sessions import event_errors

    run = load_framework(capsys, db_url, "gemini_cli", GEMINI)[LEGACY]
    errors = event_errors(db_url, run["id"])
    assert [(e.tool, e.error) for e in errors] == [
        ("run_shell_command", "make: *** No rule to make target 'schema.json', needed by 'gen'.  Stop.")
    ]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "[API Error: API key not valid. Please pass a valid API key. (Status: UNAUTHENTICATED)]",
            "config_error",
        ),
        (
            "[API Error: The input token count (1201332) exceeds the maximum number of tokens allowed (1048576).]",
            "context_overflow",
        ),
        ("[API Error: Billing account not active for this project]", "budget_exceeded"),
        ("[API Error: got status: 503 UNAVAILABLE. The model is overloaded.]", "llm_error"),
    ],
)
def test_error_texts_map_to_the_taxonomy(
    capsys, tmp_path: Path, sqlite_url: str, message: str, expected: str
) -> None:
    source = next(GEMINI.rglob("*c1d2e3f4.jsonl"))
    lines = [json.loads(line) for line in source.read_text().splitlines()]
    next(line for line in lines if line.get("type") == "error")["content"] = message
    target = tmp_path / source.name
    target.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = load_framework(capsys, sqlite_url, "gemini_cli", target)[QUOTA]
    assert (run["status"], run["failure_class"], run["failure_reason"]) == ("failed", expected, message)


def test_unknown_records_and_fields_lose_nothing_known(capsys, tmp_path: Path, db_url: str) -> None:
    drifted = tmp_path / "gemini_cli"
    for path in GEMINI.rglob("*.json*"):
        target = drifted / path.relative_to(GEMINI)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            doc = json.loads(path.read_text())
            doc["futureField"] = 1
            for message in doc["messages"]:
                message["x_new"] = {"a": 1}
            doc["messages"].insert(1, {"id": "n-1", "type": "brand_new_type", "content": "?"})
            target.write_text(json.dumps(doc))
            continue
        out = []
        for line in path.read_text().splitlines():
            value = json.loads(line)
            value["x_new"] = [1]
            out.append(json.dumps(value))
        out.insert(2, json.dumps({"$future": {"k": 1}}))
        out.insert(
            3, json.dumps({"id": "n-1", "timestamp": "2026-09-20T11:00:01.500Z", "type": "brand_new_type"})
        )
        target.write_text("\n".join(out) + "\n")
    plain = load_framework(capsys, f"sqlite:///{tmp_path / 'plain.db'}", "gemini_cli", GEMINI)
    runs = load_framework(capsys, db_url, "gemini_cli", drifted)
    keys = ("status", "task", "input_tokens", "cache_read_tokens", "output_tokens", "cost_usd", "checkpoints")
    for native, run in plain.items():
        assert {k: runs[native][k] for k in keys} == {k: run[k] for k in keys}, native
        added = 1 if run["attributes"]["layout"] == "json" else 2
        assert runs[native]["events"] == run["events"] + added, native

"""Codex CLI rollouts end to end: the hand-made samples (sample_runs/codex/README.md) loaded
into a real database through the real command line; runs, tokens, costs (hand-computed at
genai-prices' gpt-5 rates), statuses, failure classes, checkpoints, forks and tailing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from baton.cli import main
from core.ids import run_id
from ingest.content import decode_lines
from ingest.parsers.codex import rollout
from tests.conftest import SAMPLE_RUNS

CODEX = SAMPLE_RUNS / "codex"
NORMAL = "01a09f5d-f8b8-7c8c-8b12-ae6ead581e57"
SUBAGENT = "01a09f5e-b820-7ba6-943f-b835196f8d86"
LIMIT = "01a0a025-7708-7877-bf2f-650458e00e8c"
INTERRUPT = "01a0a077-c940-753d-a970-159142ac030c"
API_ERROR = "01a0a113-e230-7537-85f6-ffa81b8e8d8d"
RESET = "01a09f25-0a80-733a-9e1b-43fd91b9b6a2"
FORK = "01a0a44b-6680-7cd8-92de-1bfbbbc4ba50"

# native id -> (status, input, cached, output, cost, failure class)
EXPECTED = {
    NORMAL: ("completed", 45_000, 36_000, 2_000, 0.03575, None),
    SUBAGENT: ("completed", 4_000, 0, 200, 0.007, None),
    LIMIT: ("failed", 5_000, 0, 300, 0.00925, "rate_limit"),
    INTERRUPT: ("paused", 8_000, 2_000, 400, 0.01175, None),  # paused: not a failure
    API_ERROR: ("failed", 3_000, 1_000, 100, 0.003625, "llm_error"),
    RESET: ("completed", 46_000, 26_000, 2_000, 0.04825, None),
    FORK: ("completed", 14_000, 10_000, 500, 0.01125, None),
}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def bundled_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "prices.toml").write_text("[models]\n", encoding="utf-8")
    monkeypatch.setenv("BATON_PRICES", str(tmp_path / "prices.toml"))


def load_framework(
    capsys: pytest.CaptureFixture[str], db_url: str, framework: str, *paths: Path
) -> dict[str, dict]:
    """Ingest ``paths`` with the CLI; the runs of ``framework`` by native id, as ``baton runs --json``."""
    assert cli(capsys, "ingest", *map(str, paths), "--db", db_url)[0] == 0
    code, out = cli(capsys, "runs", "--db", db_url, "--json")
    assert code == 0
    return {run["native_id"]: run for run in json.loads(out) if run["framework"] == framework}


def load(capsys: pytest.CaptureFixture[str], db_url: str, *paths: Path) -> dict[str, dict]:
    return load_framework(capsys, db_url, "codex", *paths)


def test_each_rollout_is_one_run_with_hand_computed_tokens_costs_and_status(capsys, db_url: str) -> None:
    runs = load(capsys, db_url, CODEX)
    assert set(runs) == set(EXPECTED)
    for native, (status, inp, cached, out, cost, failure) in EXPECTED.items():
        run = runs[native]
        got = (run["status"], run["input_tokens"], run["cache_read_tokens"], run["output_tokens"])
        assert got == (status, inp, cached, out), native
        assert run["cost_usd"] == pytest.approx(cost, abs=1e-9) and run["cost_provenance"] == "computed"
        assert run["failure_class"] == failure, native
    assert runs[NORMAL]["inferred"] == ["status"] and runs[NORMAL]["task"].startswith(
        "Fix the failing cart total"
    )
    assert (
        runs[NORMAL]["attributes"].items()
        >= {
            "cwd": "/home/dev/shop",
            "git_branch": "feature/cart-total",
            "cli_version": "0.135.0",
            "model": "gpt-5-codex",
        }.items()
    )


def test_failures_keep_the_original_text_and_the_reset_time(capsys, db_url: str) -> None:
    runs = load(capsys, db_url, CODEX)
    limit = runs[LIMIT]
    assert limit["failure_reason"].endswith("resets at 2026-09-15T10:00:00Z") and limit["inferred"] == [
        "status"
    ]
    assert limit["failure_signals"]["resets_at"] == "2026-09-15T10:00:00Z"
    assert "500 Internal Server Error" in runs[API_ERROR]["failure_reason"]
    assert runs[INTERRUPT]["failure_reason"] == "turn aborted: interrupted"
    code, out = cli(capsys, "failures", "--db", db_url, "--json")
    assert code == 0
    assert {(g["failure_class"], tuple(g["frameworks"])) for g in json.loads(out)} == {
        ("rate_limit", ("codex",)),
        ("llm_error", ("codex",)),
    }


def test_a_fork_and_a_subagent_name_their_parent_and_do_not_count_its_replay(capsys, db_url: str) -> None:
    runs = load(capsys, db_url, CODEX)
    fork, sub = runs[FORK]["attributes"], runs[SUBAGENT]["attributes"]
    assert (fork["parent_kind"], fork["parent_native_id"]) == ("fork", RESET)
    assert fork["parent_run_id"] == runs[RESET]["id"] and fork["replayed_lines"] > 20
    assert (sub["parent_kind"], sub["parent_run_id"]) == ("subagent", runs[NORMAL]["id"])
    assert runs[SUBAGENT]["agents"] == ["Ramanujan"]
    assert runs[FORK]["task"] == "Try percentage coupons instead of fixed amounts"  # not the parent's prompt
    code, out = cli(capsys, "show", runs[FORK]["id"], "--db", db_url)
    assert code == 0 and f"parent   {runs[RESET]['id']} (fork of {RESET})" in out
    assert "branch   feature/coupons" in out and "version  0.135.0" in out


def test_checkpoints_one_per_prompt_chained_and_events_mark_errors(capsys, db_url: str) -> None:
    runs = load(capsys, db_url, CODEX)
    code, out = cli(capsys, "show", runs[RESET]["id"], "--db", db_url, "--json")
    shown = json.loads(out)
    checkpoints = sorted(shown["checkpoints"], key=lambda c: c["created_at"])
    assert [c["summary"] for c in checkpoints] == [
        "Add coupon codes to the checkout",
        "Wire it into the checkout form",
        "Reject expired coupons",
    ]
    assert [c["parent_id"] for c in checkpoints] == [None, checkpoints[0]["id"], checkpoints[1]["id"]]
    code, out = cli(capsys, "show", runs[NORMAL]["id"], "--db", db_url, "--json")
    assert json.loads(out)["event_counts"] == {"llm_call": 3, "lifecycle": 4, "step": 4, "tool_call": 8}
    errors = event_errors(db_url, runs[NORMAL]["id"])
    assert [(e.tool, e.error.split(":")[0]) for e in errors] == [("call_k1RjH2m9", "exit code 1")]
    kinds = {(e.kind, e.name) for e in event_errors(db_url, runs[INTERRUPT]["id"])}
    assert kinds == {("lifecycle", "turn_aborted")}
    api = event_errors(db_url, runs[API_ERROR]["id"])
    assert [(e.kind, e.name) for e in api] == [("error", "error")]


def event_errors(db_url: str, run: str) -> list:
    from sqlalchemy import select

    from core.db import make_engine
    from core.tables import Event

    engine = make_engine(db_url, create=False)
    with engine.connect() as connection:
        rows = connection.execute(select(Event).where(Event.run_id == run, Event.error.is_not(None))).all()
    engine.dispose()
    return sorted(rows, key=lambda e: e.at)


def test_a_growing_rollout_is_tailed_to_the_same_result(capsys, tmp_path: Path, sqlite_url: str) -> None:
    source = next(CODEX.rglob(f"*{RESET}.jsonl"))
    lines = source.read_bytes().splitlines(keepends=True)
    turn3 = next(
        i for i, line in enumerate(lines) if b"2026-09-15T08:00:03" in line
    )  # the resumed turn starts
    grown = tmp_path / "sessions" / source.name
    grown.parent.mkdir()
    grown.write_bytes(b"".join(lines[:turn3]))
    before = load(capsys, sqlite_url, grown)[RESET]
    assert before["input_tokens"] == 25_000
    with grown.open("ab") as handle:
        handle.write(b"".join(lines[turn3:]))
    after = load(capsys, sqlite_url, grown)[RESET]
    whole = load(capsys, f"sqlite:///{tmp_path / 'whole.db'}", source)[RESET]
    keys = (
        "status",
        "input_tokens",
        "cache_read_tokens",
        "output_tokens",
        "cost_usd",
        "checkpoints",
        "events",
    )
    assert {k: after[k] for k in keys} == {k: whole[k] for k in keys}
    # The new lines stand alone (they start a turn); lines that start mid-turn need the model.
    offset = len(b"".join(lines[:turn3]))
    chunk = decode_lines(grown, b"".join(lines[turn3:]), turn3 + 1, offset)
    assert not rollout.parse(chunk).whole_file_needed
    mid = next(i for i in range(turn3, len(lines)) if b'"token_count"' in lines[i])
    chunk = decode_lines(grown, b"".join(lines[mid:]), mid + 1, len(b"".join(lines[:mid])))
    assert rollout.parse(chunk).whole_file_needed


@pytest.mark.parametrize(
    ("info", "message", "expected"),
    [
        (
            "context_window_exceeded",
            "Codex ran out of room in the model's context window.",
            "context_overflow",
        ),
        ("usage_limit_exceeded", "You've hit your usage limit. Try again at 3:05 PM.", "rate_limit"),
        ("unauthorized", "unexpected status 401 Unauthorized: Missing bearer authentication", "config_error"),
        ("server_overloaded", "unexpected status 503 Service Unavailable", "llm_error"),
    ],
)
def test_error_kinds_map_to_the_taxonomy(
    capsys, tmp_path: Path, sqlite_url: str, info: str, message: str, expected: str
) -> None:
    source = next(CODEX.rglob(f"*{API_ERROR}.jsonl"))
    lines = [json.loads(line) for line in source.read_text().splitlines()]
    lines[-1]["payload"].update(message=message, codex_error_info=info)
    target = tmp_path / source.name
    target.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = load(capsys, sqlite_url, target)[API_ERROR]
    assert (run["status"], run["failure_class"], run["failure_reason"]) == ("failed", expected, message)


def test_a_billing_limit_is_budget_exceeded(capsys, tmp_path: Path, sqlite_url: str) -> None:
    source = next(CODEX.rglob(f"*{LIMIT}.jsonl"))
    target = tmp_path / source.name
    target.write_text(
        source.read_text().replace('"rate_limit_reached"', '"workspace_owner_credits_depleted"')
    )
    assert load(capsys, sqlite_url, target)[LIMIT]["failure_class"] == "budget_exceeded"


def test_unknown_lines_types_and_fields_lose_nothing_known(capsys, tmp_path: Path, db_url: str) -> None:
    drifted = tmp_path / "codex"
    shutil.copytree(CODEX, drifted)
    for path in drifted.rglob("*.jsonl"):
        out = []
        lines = path.read_text().splitlines()
        own = max(i for i, line in enumerate(lines) if '"user_message"' in line)  # past any fork replay
        for number, line in enumerate(lines):
            value = json.loads(line)
            value["ordinal"] = number  # unknown envelope field
            value["payload"]["x_future_field"] = {"nested": [1, 2]}  # unknown payload field
            out.append(json.dumps(value))
            if number == own:
                out.append(
                    json.dumps({"timestamp": value["timestamp"], "type": "world_state", "payload": {"k": 1}})
                )
                out.append(
                    json.dumps(
                        {
                            "timestamp": value["timestamp"],
                            "type": "event_msg",
                            "payload": {"type": "brand_new_event", "v": 2},
                        }
                    )
                )
                out.append(
                    json.dumps(
                        {
                            "timestamp": value["timestamp"],
                            "type": "response_item",
                            "payload": {"type": "future_item", "v": 3},
                        }
                    )
                )
                out.append(json.dumps(["not", "an", "object"]))
        path.write_text("\n".join(out) + "\n")
    plain = load(capsys, f"sqlite:///{tmp_path / 'plain.db'}", CODEX)
    runs = load(capsys, db_url, drifted)
    keys = (
        "status",
        "task",
        "input_tokens",
        "cache_read_tokens",
        "output_tokens",
        "cost_usd",
        "checkpoints",
        "failure_class",
    )
    for native, run in plain.items():
        assert {k: runs[native][k] for k in keys} == {k: run[k] for k in keys}, native
        assert runs[native]["events"] == run["events"] + 4  # the four unknown lines, kept raw
    assert run_id("codex", NORMAL) == runs[NORMAL]["id"]


def test_the_dashboard_watches_codex_and_gemini_homes_when_they_exist(tmp_path: Path, monkeypatch) -> None:
    from ingest.watcher import default_watch_paths

    monkeypatch.delenv("BATON_WATCH", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHECKPOINT_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "gemini-home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))  # not this machine's ~/.claude
    assert default_watch_paths() == [SAMPLE_RUNS]
    (tmp_path / "codex-home" / "sessions").mkdir(parents=True)
    (tmp_path / "gemini-home" / ".gemini" / "tmp").mkdir(parents=True)
    assert default_watch_paths() == [
        SAMPLE_RUNS,
        tmp_path / "codex-home" / "sessions",
        tmp_path / "gemini-home" / ".gemini" / "tmp",
    ]

"""``baton costs``, ``baton failures`` and the cost/failure fields of ``baton runs``, end to
end against a real SQLite file loaded from sample_runs/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baton.cli import main
from core.db import make_engine
from tests.conftest import SAMPLE_RUNS

COST_KEYS = {"key", "input_tokens", "output_tokens", "cost_usd", "provenance", "unpriced_calls"}


def baton(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'baton.db'}"
    assert main(["ingest", str(SAMPLE_RUNS), "--db", url, "--json"]) == 1  # sample_runs/broken fails
    return url


@pytest.fixture(autouse=True)
def empty_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user prices file with no models, so that ~/.baton/prices.toml never leaks in."""
    path = tmp_path / "prices.toml"
    path.write_text("[models]\n", encoding="utf-8")
    monkeypatch.setenv("BATON_PRICES", str(path))
    return path


@pytest.mark.parametrize("by", ["run", "agent", "model", "framework", "day"])
def test_costs_json_rows_have_the_documented_keys(capsys, loaded: str, by: str) -> None:
    code, out, err = baton(capsys, "costs", "--by", by, "--db", loaded, "--json")
    rows = json.loads(out)
    assert code == 0 and rows and err == ""
    for row in rows:
        assert row.keys() >= COST_KEYS
        assert row["provenance"] in {"reported", "computed", "reported+computed", "unpriced"}
        if row["provenance"] == "unpriced":
            assert row["cost_usd"] is None and row["unpriced_calls"] > 0
        else:
            assert row["cost_usd"] is not None
    assert len({row["key"] for row in rows}) == len(rows)


def test_costs_by_model_shows_unpriced_models_without_a_dollar_figure(capsys, loaded: str) -> None:
    code, out, _ = baton(capsys, "costs", "--by", "model", "--db", loaded, "--json")
    rows = {row["key"]: row for row in json.loads(out)}
    assert rows["llama3.1:8b"]["cost_usd"] is None and rows["llama3.1:8b"]["unpriced_calls"] == 2
    assert rows["gpt-4o"]["provenance"] == "computed"
    assert rows["gpt-4o"]["prices"] == {"openai/gpt-4o": rows["gpt-4o"]["prices"]["openai/gpt-4o"]}
    assert rows["gpt-4o"]["prices"]["openai/gpt-4o"].startswith("genai-prices: genai-prices ")
    code, out, _ = baton(capsys, "costs", "--by", "model", "--db", loaded)
    line = next(line for line in out.splitlines() if line.startswith("llama3.1:8b"))
    assert "2 unpriced calls" in line and "$0" not in line
    assert "no price for:" in out and "llama3.1:8b" in out


def test_user_prices_file_changes_costs_on_the_next_command(capsys, loaded: str, empty_prices: Path) -> None:
    _, out, _ = baton(capsys, "costs", "--by", "model", "--db", loaded, "--json")
    assert {r["key"]: r for r in json.loads(out)}["llama3.1:8b"]["cost_usd"] is None
    empty_prices.write_text('[models."llama3.1:8b"]\ninput = 1\noutput = 2\n', encoding="utf-8")
    _, out, _ = baton(capsys, "costs", "--by", "model", "--db", loaded, "--json")
    row = {r["key"]: r for r in json.loads(out)}["llama3.1:8b"]
    assert row["cost_usd"] == pytest.approx((330 + 2 * 106) / 1e6)
    assert row["provenance"] == "computed" and row["unpriced_calls"] == 0


def test_broken_prices_file_warns_and_goes_on(capsys, loaded: str, empty_prices: Path) -> None:
    empty_prices.write_text("[models\n", encoding="utf-8")
    code, out, err = baton(capsys, "costs", "--db", loaded)
    assert code == 0 and "total:" in out
    assert err.startswith("baton: warning: prices file ") and "cannot read it" in err


def test_costs_between_two_checkpoints(capsys, loaded: str) -> None:
    _, out, _ = baton(capsys, "runs", "--db", loaded, "--json", "--framework", "loopengt")
    run = next(r for r in json.loads(out) if r["task"] == "research-brief")
    _, out, _ = baton(capsys, "show", run["id"], "--db", loaded, "--json")
    cps = sorted(json.loads(out)["checkpoints"], key=lambda cp: cp["created_at"])
    code, out, _ = baton(
        capsys, "costs", "--run", run["id"], "--between", cps[0]["id"], cps[1]["id"], "--db", loaded, "--json"
    )
    (window,) = json.loads(out)
    assert code == 0 and (window["input_tokens"], window["output_tokens"]) == (170, 54)  # the outline step
    code, _, err = baton(capsys, "costs", "--between", cps[0]["id"], cps[1]["id"], "--db", loaded)
    assert code == 2 and "--between needs --run" in err


def test_runs_json_has_failure_class_last_good_checkpoint_and_cost_provenance(capsys, loaded: str) -> None:
    code, out, _ = baton(capsys, "runs", "--db", loaded, "--json")
    runs = json.loads(out)
    assert code == 0
    for run in runs:
        assert {
            "failure_class",
            "last_good_checkpoint",
            "cost_usd",
            "cost_provenance",
            "unpriced_calls",
        } <= run.keys()
        assert (run["failure_class"] is not None) == (run["status"] == "failed")
        if run["cost_provenance"] == "unpriced":
            assert run["cost_usd"] is None
    etl = next(r for r in runs if r["task"] == "nightly-etl")
    assert etl["failure_class"] == "tool_error" and etl["last_good_checkpoint"]
    assert etl["cost_provenance"] == "computed" and etl["cost_usd"] > 0
    digest = next(r for r in runs if r["task"] == "weekly-digest")
    assert digest["cost_usd"] is None and digest["unpriced_calls"] == 2
    code, out, _ = baton(capsys, "show", etl["id"], "--db", loaded, "--json")
    shown = json.loads(out)
    assert shown["failure_class"] == "tool_error"
    assert shown["last_good_checkpoint"] in {cp["id"] for cp in shown["checkpoints"]}
    code, out, _ = baton(capsys, "show", etl["id"], "--db", loaded)
    assert (
        "[tool_error] Step 'load' failed" in out
        and f"last good checkpoint {etl['last_good_checkpoint']}" in out
    )


def test_failures_json_lists_groups_with_counts_and_example_runs(capsys, loaded: str) -> None:
    code, out, _ = baton(capsys, "failures", "--db", loaded, "--json")
    groups = json.loads(out)
    assert code == 0 and groups
    _, out, _ = baton(capsys, "runs", "--db", loaded, "--json", "--status", "failed")
    failed = {r["id"] for r in json.loads(out)}
    assert sum(g["count"] for g in groups) == len(failed)
    for group in groups:
        assert {
            "failure_class",
            "normalized_reason",
            "count",
            "example_runs",
            "example_reason",
        } <= group.keys()
        assert set(group["example_runs"]) <= failed and 1 <= len(group["example_runs"]) <= group["count"]
    rate = next(g for g in groups if g["failure_class"] == "rate_limit")
    assert rate["count"] == 2 and "Rate limit reached for <n>" in rate["normalized_reason"]
    code, out, _ = baton(capsys, "failures", "--by", "class", "--db", loaded)
    assert code == 0 and "interrupted" in out and "failed runs in" in out
    code, out, _ = baton(capsys, "failures", "--runs", "--db", loaded, "--json")
    per_run = json.loads(out)
    assert {r["run_id"] for r in per_run} == failed
    assert all(r["reason"] is None or r["normalized_reason"] for r in per_run)


def test_empty_database_says_so(capsys, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    make_engine(url).dispose()  # an empty database (read commands no longer create one)
    assert baton(capsys, "costs", "--db", url)[1].startswith("No token or cost data")
    assert baton(capsys, "failures", "--db", url)[1].startswith("No failed runs")
    assert json.loads(baton(capsys, "failures", "--db", url, "--json")[1]) == []

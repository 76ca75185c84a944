"""Warnings of files that loaded are shown, not only stored: `baton ingest` prints each on
stderr (`warning: path:line: text`, beside `bad line:`), `baton errors` lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baton.cli import main
from tests.conftest import SAMPLE_RUNS

ACF = SAMPLE_RUNS / "acf/v0.1.0/runs/pricing-scrape/attempt-1/start.json"
BUDGET = next((SAMPLE_RUNS / "harness/v0.14.0/budgets").glob("*.json"))


def _agent_folder(tmp_path: Path) -> tuple[Path, Path]:
    """An ACF checkpoint with a number beyond a double (a warning with its line) and a
    harness budget whose cost is one (a field not stored: a warning naming the run)."""
    folder = tmp_path / "agent"
    folder.mkdir()
    checkpoint = folder / "start.json"
    checkpoint.write_text(ACF.read_text().replace('"emitted_at"', '"confidence": 1e400,\n  "emitted_at"', 1))
    budget = json.loads(BUDGET.read_text())
    budget["cost_usd"] = 123456.5
    (folder / BUDGET.name).write_text(json.dumps(budget, indent=2).replace("123456.5", "1e400"))
    return checkpoint, folder / BUDGET.name


def test_ingest_prints_the_warnings_of_files_that_loaded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_url: str
) -> None:
    checkpoint, budget = _agent_folder(tmp_path)
    line = checkpoint.read_text().splitlines().index('  "confidence": 1e400,') + 1
    code = main(["ingest", str(tmp_path / "agent"), "--db", sqlite_url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "2 files seen: 2 loaded" in out
    warnings = [text for text in err.splitlines() if text.startswith("warning: ")]
    assert f"warning: {checkpoint}:{line}: a number beyond the range of a double (such as 1e400)" in err
    assert any(
        text.startswith(f"warning: {budget}: run ") and "field cost_usd: value inf out of range" in text
        for text in warnings
    ), err
    assert len(warnings) == 3, err  # the budget's 1e400 is said once more, with its line

    code = main(["errors", "--db", sqlite_url])
    listed, _ = capsys.readouterr()
    assert code == 0
    assert f"{checkpoint}:{line}: warning: a number beyond the range of a double" in listed
    assert f"{budget}: warning: run " in listed and "stored as null" in listed
    assert "No failed files" not in listed

    main(["errors", "--db", sqlite_url, "--json"])
    entries = json.loads(capsys.readouterr().out)
    assert {(Path(e["path"]).name, e["outcome"]) for e in entries} == {
        ("start.json", "loaded"),
        (BUDGET.name, "loaded"),
    }
    assert all(e["error"].startswith("warning: ") for e in entries)


def test_errors_of_a_database_without_any(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_url: str
) -> None:
    main(["ingest", str(SAMPLE_RUNS / "acf/v0.1.0/runs"), "--db", sqlite_url])
    _out, err = capsys.readouterr()
    assert "warning:" not in err
    main(["errors", "--db", sqlite_url])
    assert capsys.readouterr().out == "No failed files, bad lines or warnings.\n"

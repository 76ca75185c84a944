"""Lose nothing, misreport nothing (issue 21): a JSON Lines file loads its good lines around a
bad one and lists it; an agent that died mid-line and kept appending shows its resumed run; a
file cut short or rewritten into something broken keeps what it gave; an empty log is loaded;
a cut-short document is failed, never JSON Lines; a BOM is accepted; the summary counts only
what was stored. Every file is built here, read by the real ingest into a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from core import queries
from core.db import make_engine
from core.store import Store
from core.tables import SourceFile
from ingest.changes import load_changes
from ingest.loader import ingest_paths
from tests.conftest import REPO, SAMPLE_RUNS
from tests.helpers import row_counts

TECHREVATI = SAMPLE_RUNS / "techrevati" / "v0.4.0"
LOGS = {
    "acf.checkpoint": SAMPLE_RUNS / "acf/v0.1.0/streams/ticket-indexing.jsonl",
    "loopengt.trace": SAMPLE_RUNS / "loopengt/v0.1.0/.loopengt/runs/444a995107c3.trace.jsonl",
    "techrevati.events": TECHREVATI / "completed.jsonl",
    "techrevati.usage": TECHREVATI / "usage_only.usage.jsonl",
    "techrevati.audit": TECHREVATI / "budget.audit.jsonl",
    "harness.trace": SAMPLE_RUNS
    / "harness/v0.14.0/traces/crash_periodic--ab3a2bfc-06b6-43e9-8a61-33395e261a47.jsonl",
}
HARNESS_TRACE = LOGS["harness.trace"]  # 16 events


def _row(store: Store, path: Path) -> SourceFile:
    with store.engine.connect() as connection:
        return connection.execute(select(SourceFile).where(SourceFile.path == str(path))).one()


def _reference(tmp_path: Path, folder: Path) -> dict[str, int]:
    """What a clean ingest of ``folder`` stores, in a database of its own."""
    alone = Store(make_engine(f"sqlite:///{tmp_path / 'reference.db'}"))
    ingest_paths([folder], alone)
    counts = row_counts(alone.engine)
    alone.engine.dispose()
    return counts


def _baton(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args], capture_output=True, text=True, timeout=120, cwd=REPO
    )


@pytest.mark.parametrize("fmt", sorted(LOGS))
def test_one_bad_line_loads_every_good_line_and_is_listed(tmp_path: Path, store: Store, fmt: str) -> None:
    sample = LOGS[fmt]
    lines = sample.read_bytes().splitlines(keepends=True)
    clean = tmp_path / "clean" / sample.name
    clean.parent.mkdir()
    clean.write_bytes(b"".join(lines))
    broken = tmp_path / "broken" / sample.name
    broken.parent.mkdir()
    broken.write_bytes(lines[0] + b'{"not": json\n' + b"".join(lines[1:]))
    summary = ingest_paths([broken.parent], store)
    assert (summary.files_loaded, summary.files_failed) == (1, 0)
    row = _row(store, broken)
    assert (row.outcome, row.format, row.bad_line_count) == ("loaded", fmt, 1)
    assert row.error == "loaded, 1 bad line (skipped; the other lines loaded)" and row.error_line == 2
    assert row_counts(store.engine) == _reference(tmp_path, clean.parent)
    (listed,) = queries.failed_files(store.engine)
    assert (listed["path"], listed["line"], listed["outcome"]) == (str(broken), 2, "loaded")
    assert listed["error"].startswith("skipped: invalid JSON")


def test_baton_ingest_and_baton_errors_show_each_bad_line(tmp_path: Path, db_url: str) -> None:
    lines = LOGS["acf.checkpoint"].read_bytes().splitlines(keepends=True)
    log = tmp_path / "runs" / "stream.jsonl"
    log.parent.mkdir()
    log.write_bytes(lines[0] + b"garbage\n" + lines[1] + b"{]\n" + lines[2])
    done = _baton("ingest", str(log.parent), "--db", db_url)
    assert done.returncode == 0, done.stderr
    assert "1 files seen: 1 loaded (2 bad lines skipped), 0 unchanged, 0 ignored, 0 failed" in done.stdout
    assert "3 checkpoints" in done.stdout
    assert f"bad line: {log}:2: skipped: invalid JSON" in done.stderr
    assert f"bad line: {log}:4: skipped: invalid JSON" in done.stderr
    errors = _baton("errors", "--db", db_url)
    assert errors.returncode == 0
    printed = errors.stdout.splitlines()
    assert [line.split(": skipped: ")[0] for line in printed] == [f"{log}:2", f"{log}:4"]
    assert all("invalid JSON" in line for line in printed)


def _log_lines(fmt: str) -> list[bytes]:
    """The lines of a sample log of ``fmt``; for ACF, whose stream samples have 3 lines, a
    stream of 8 checkpoints of the samples."""
    if fmt != "acf.checkpoint":
        return LOGS[fmt].read_bytes().splitlines(keepends=True)
    docs = sorted((SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints").rglob("*.json"))[:8]
    return [json.dumps(json.loads(doc.read_bytes())).encode() + b"\n" for doc in docs]


def _crash_then_resume(lines: list[bytes]) -> tuple[bytes, bytes]:
    """A log whose writer died in the middle of its line 3, and what the restarted writer
    appends: the rest of the lines, the first right after the cut (no newline between)."""
    before = b"".join(lines[:2]) + lines[2][: len(lines[2]) // 2]
    return before, b"".join(lines[3:])


@pytest.mark.parametrize("fmt", ["acf.checkpoint", "harness.trace", "techrevati.events", "loopengt.trace"])
@pytest.mark.parametrize("read_between", [True, False], ids=["tailed", "read-once-after"])
def test_an_agent_that_died_mid_line_and_kept_appending_loses_only_that_line(
    tmp_path: Path, store: Store, fmt: str, read_between: bool
) -> None:
    sample = LOGS[fmt]
    lines = _log_lines(fmt)
    expected = tmp_path / "expected" / sample.name
    expected.parent.mkdir()
    expected.write_bytes(b"".join(lines[:2] + lines[3:]))  # every good line
    log = tmp_path / "runs" / sample.name
    log.parent.mkdir()
    before, resumed = _crash_then_resume(lines)
    log.write_bytes(before)
    if read_between:  # the half line is waited for, as a line still being written
        summary = ingest_paths([log.parent], store)
        assert (summary.files_loaded, summary.files_failed, summary.bad_line_count) == (1, 0, 0)
    with log.open("ab") as handle:
        handle.write(resumed)
    summary = ingest_paths([log.parent], store)
    assert (summary.files_loaded, summary.files_failed, summary.bad_line_count) == (1, 0, 1)
    assert row_counts(store.engine) == _reference(tmp_path, expected.parent)
    (bad,) = queries.failed_files(store.engine)
    assert bad["line"] == 3 and "cut short" in bad["error"]
    assert _row(store, log).outcome == "loaded"
    # A next ingest changes nothing and still lists the line.
    again = ingest_paths([log.parent], store)
    assert (again.files_unchanged, again.files_failed) == (1, 0)
    assert [b["line"] for b in queries.failed_files(store.engine)] == [3]


def test_the_crash_append_sequence_through_the_watchers_write_path(tmp_path: Path, store: Store) -> None:
    lines = HARNESS_TRACE.read_bytes().splitlines(keepends=True)
    log = tmp_path / HARNESS_TRACE.name
    before, resumed = _crash_then_resume(lines)
    log.write_bytes(before)
    assert [o.outcome for o in load_changes(store, [str(log)]).written] == ["loaded"]
    assert row_counts(store.engine)["event"] == 2
    with log.open("ab") as handle:  # the restart appends in two writes
        handle.write(resumed[:100])
    load_changes(store, [str(log)])
    with log.open("ab") as handle:
        handle.write(resumed[100:])
    (outcome,) = load_changes(store, [str(log)]).written
    assert outcome.append and outcome.outcome == "loaded"
    assert row_counts(store.engine)["event"] == len(lines) - 1
    assert [(b["line"], b["outcome"]) for b in queries.failed_files(store.engine)] == [(3, "loaded")]


def test_a_bad_line_in_new_lines_adds_to_those_listed_before(tmp_path: Path, store: Store) -> None:
    lines = HARNESS_TRACE.read_bytes().splitlines(keepends=True)
    log = tmp_path / HARNESS_TRACE.name
    log.write_bytes(lines[0] + b"{x\n" + b"".join(lines[1:5]))
    ingest_paths([log], store)
    with log.open("ab") as handle:
        handle.write(b"[1,\n" + b"".join(lines[5:]))
    ingest_paths([log], store)
    assert [b["line"] for b in queries.failed_files(store.engine)] == [2, 7]
    row = _row(store, log)
    assert row.bad_line_count == 2 and row.error.startswith("loaded, 2 bad lines")
    assert row_counts(store.engine)["event"] == len(lines)


@pytest.mark.parametrize("keep", [0.5, 0.0, 0.3], ids=["half", "empty", "mid-line"])
def test_a_trace_cut_short_keeps_every_event_and_says_so(tmp_path: Path, store: Store, keep: float) -> None:
    data = HARNESS_TRACE.read_bytes()
    log = tmp_path / HARNESS_TRACE.name
    log.write_bytes(data)
    ingest_paths([log], store)
    assert row_counts(store.engine)["event"] == 16
    log.write_bytes(data[: int(len(data) * keep)])
    summary = ingest_paths([log], store)
    assert (summary.files_loaded, summary.files_failed) == (1, 0)
    assert row_counts(store.engine)["event"] == 16
    row = _row(store, log)
    assert row.outcome == "loaded" and "shorter than the" in row.error and "are kept" in row.error
    # Lines written after its new end are new lines: read and added.
    extra = json.loads(data.splitlines()[-1]) | {"type": "error", "error": "written after the cut"}
    with log.open("ab") as handle:
        if data[: int(len(data) * keep)] and not data[: int(len(data) * keep)].endswith(b"\n"):
            handle.write(b"\n")  # the cut line ends; it was taken as read
        handle.write(json.dumps(extra).encode() + b"\n")
    ingest_paths([log], store)
    assert row_counts(store.engine)["event"] == 17


def test_a_file_rewritten_into_something_broken_keeps_what_it_gave(tmp_path: Path, store: Store) -> None:
    checkpoint = next((SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints").rglob("*.json"))
    doc = tmp_path / "cp.json"
    doc.write_bytes(checkpoint.read_bytes())
    stream_lines = LOGS["acf.checkpoint"].read_bytes().splitlines(keepends=True)
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"".join(stream_lines))
    ingest_paths([tmp_path], store)
    before = row_counts(store.engine)
    doc.write_bytes(checkpoint.read_bytes()[:50])  # a JSON document cut short
    # the same size, its middle line now garbage: read whole again, not completely
    middle = stream_lines[1]
    stream.write_bytes(stream_lines[0] + b"#" * (len(middle) - 1) + b"\n" + stream_lines[2])
    summary = ingest_paths([tmp_path], store)
    assert row_counts(store.engine) == before
    assert (summary.files_failed, summary.files_loaded) == (1, 1)
    failed = _row(store, doc)
    assert failed.outcome == "failed" and failed.error.endswith("; the records it gave before are kept")
    assert _row(store, stream).bad_line_count == 1
    # Only a file that parses completely replaces what it gave (blank lines keep its size).
    stream.write_bytes(stream_lines[0] + stream_lines[2] + b"\n" * len(middle))
    ingest_paths([tmp_path], store)
    assert row_counts(store.engine)["checkpoint"] == before["checkpoint"] - 1


def test_an_empty_log_is_loaded_and_an_empty_document_fails(tmp_path: Path, db_url: str) -> None:
    runs = tmp_path / "runs"
    (runs / "traces").mkdir(parents=True)
    (runs / "traces" / "new.jsonl").write_bytes(b"")
    (runs / "traces" / "blank.ndjson").write_bytes(b"\n  \n")
    (runs / "bom.jsonl").write_bytes(b"\xef\xbb\xbf")
    (runs / HARNESS_TRACE.name).write_bytes(HARNESS_TRACE.read_bytes())
    done = _baton("ingest", str(runs), "--db", db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 files seen: 4 loaded, 0 unchanged, 0 ignored, 0 failed" in done.stdout
    (runs / "empty.json").write_bytes(b"")
    done = _baton("ingest", str(runs), "--db", db_url)
    assert done.returncode == 1
    assert f"failed: {runs / 'empty.json'}: empty file" in done.stderr
    store = Store(make_engine(db_url))
    assert _row(store, runs / "traces" / "new.jsonl").outcome == "loaded"
    store.engine.dispose()


def test_a_cut_short_document_is_failed_even_when_one_of_its_lines_is_json(
    tmp_path: Path, store: Store
) -> None:
    checkpoint = next((SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints").rglob("*.json"))
    text = json.dumps(json.loads(checkpoint.read_bytes()), indent=2)
    lines = text.splitlines(keepends=True)
    valid = next(i for i, line in enumerate(lines) if i and _is_json(line))  # e.g. '    "outline"'
    cut = tmp_path / "cp.json"
    cut.write_text("".join(lines[: valid + 1]))
    summary = ingest_paths([tmp_path], store)
    assert (summary.files_failed, summary.files_ignored) == (1, 0)
    row = _row(store, cut)
    assert row.outcome == "failed" and "truncated JSON" in row.error and row.error_line


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def test_a_byte_order_mark_is_accepted(tmp_path: Path, store: Store) -> None:
    checkpoint = next((SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints").rglob("*.json"))
    (tmp_path / "cp.json").write_bytes(b"\xef\xbb\xbf" + checkpoint.read_bytes())
    stream = LOGS["acf.checkpoint"]
    (tmp_path / "stream.jsonl").write_bytes(b"\xef\xbb\xbf" + stream.read_bytes())
    summary = ingest_paths([tmp_path], store)
    assert (summary.files_loaded, summary.files_ignored, summary.files_failed, summary.bad_line_count) == (
        2,
        0,
        0,
        0,
    )
    assert {_row(store, tmp_path / name).format for name in ("cp.json", "stream.jsonl")} == {"acf.checkpoint"}
    assert summary.checkpoints == 1 + len(stream.read_bytes().splitlines())


def test_the_summary_counts_only_records_that_were_stored(tmp_path: Path, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL refuses a NUL character in text; SQLite stores it")
    checkpoint = json.loads(
        next((SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints").rglob("*.json")).read_bytes()
    )
    for name in ("a", "b"):
        doc = checkpoint | {
            "task_summary": "nul \u0000 inside",
            "checkpoint_id": checkpoint["checkpoint_id"][:-1] + name,
        }
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    done = _baton("ingest", str(tmp_path), "--db", db_url)
    assert done.returncode == 1
    assert "2 files seen: 0 loaded, 0 unchanged, 0 ignored, 2 failed" in done.stdout
    assert "0 runs, 0 checkpoints, 0 events" in done.stdout

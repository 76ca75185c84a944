"""A value no column can hold fails one field, never the file (issue 21).

Each case copies a sample file of one framework into tmp_path, puts one hostile value in
one field (a timestamp pushed past the year 9999 or before the year 1 by its offset, an
integer beyond 64 bits, a list where a text belongs, an infinite REAL in a SQLite source)
and ingests it through the real ``ingest_paths`` into SQLite and PostgreSQL: the file is
loaded, the record is there with that field empty, the file's warning names the field and
the value, and the value is still in what Baton stores of the record (a checkpoint's
document, untouched, or ``unstored`` in the record's JSON) and in the file on disk.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import queries
from core.db import make_engine
from core.record_values import check_values
from core.records import EventRecord, ParsedFile, RunRecord
from core.store import Store
from core.tables import Checkpoint, Event, Run
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

EDGE_HIGH = "9999-12-31T23:59:59-12:00"  # 10000-01-01T11:59:59 in UTC
EDGE_LOW = "0001-01-01T00:00:00+14:00"  # the year 0 in UTC
BIG = 2**63  # one past the largest signed 64-bit integer (orjson still reads it as an int)
HUGE = 2**64 - 1  # the largest integer orjson reads as one
BEYOND_DOUBLE = b"1e400"  # a JSON number no double holds: orjson refuses it, the stdlib reads inf
MARK = 123456.5  # written where BEYOND_DOUBLE goes (json.dumps cannot write it)
ACF = SAMPLE_RUNS / "acf/v0.1.0/runs/pricing-scrape/attempt-1/start.json"
LOOP = SAMPLE_RUNS / "loopengt/v0.1.0/.loopengt"
HARNESS = SAMPLE_RUNS / "harness/v0.14.0"
TECH = SAMPLE_RUNS / "techrevati/v0.4.0"


@dataclass
class Case:
    make: Callable[[Path], Path]  # writes the hostile file under a folder, returns it
    table: Any  # the table of the record that holds the field
    column: str  # its column, None after the ingest
    field: str  # the field the warning names
    shown: str  # how the value reads in the warning
    kept: Callable[[Any], Any]  # where the stored row still holds the value


def _json(source: Path, target: Path, change: Callable[[Any], None]) -> Path:
    doc = json.loads(source.read_text())
    change(doc)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc))
    return target


def _jsonl(source: Path, target: Path, change: Callable[[int, dict], None]) -> Path:
    lines = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    for number, line in enumerate(lines):
        change(number, line)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return target


def _sqlite(source: Path, target: Path, statement: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    db = sqlite3.connect(target)
    try:
        with db:
            assert db.execute(statement).rowcount == 1
    finally:
        db.close()  # before the ingest: a connection left open changes the file when it goes
    return target


def _beyond_double(path: Path) -> Path:
    """``path`` with its number ``MARK`` written as 1e400."""
    data = path.read_bytes()
    assert data.count(str(MARK).encode()) == 1
    path.write_bytes(data.replace(str(MARK).encode(), BEYOND_DOUBLE))
    return path


def _set(key: str, value: Any, first_only: bool = True) -> Callable[[int, dict], None]:
    def change(number: int, line: dict) -> None:
        if number == 0 or not first_only:
            line[key] = value

    return change


def _first_usage(key: str, value: Any) -> Callable[[int, dict], None]:
    done = []

    def change(number: int, line: dict) -> None:
        if isinstance(line.get("usage"), dict) and not done:
            line["usage"][key] = value
            done.append(number)

    return change


def _first_payload(key: str, value: Any) -> Callable[[int, dict], None]:
    done = []

    def change(number: int, line: dict) -> None:
        payload = line.get("payload")
        if isinstance(payload, dict) and key in payload and not done:
            payload[key] = value
            done.append(number)

    return change


def _unstored(name: str) -> Callable[[Any], Any]:
    return lambda row: (row.data if hasattr(row, "data") and row.data is not None else row.attributes)[
        "unstored"
    ][name]


TRACE = next((HARNESS / "traces").glob("fail_budget--*.jsonl"))
CASES = {
    "acf checkpoint emitted_at past 9999": Case(
        lambda d: _json(ACF, d / "start.json", lambda doc: doc.update(emitted_at=EDGE_HIGH)),
        Checkpoint,
        "created_at",
        "created_at",
        EDGE_HIGH,
        lambda row: row.document["emitted_at"],
    ),
    "loopengt checkpoint created_at before year 1": Case(
        lambda d: _json(
            next(LOOP.glob("runs/*/checkpoints/*.json")),
            d / ".loopengt/runs/r1/checkpoints/c1.json",
            lambda doc: doc.update(created_at=EDGE_LOW),
        ),
        Checkpoint,
        "created_at",
        "created_at",
        EDGE_LOW,
        lambda row: row.document["created_at"],
    ),
    "loopengt trace timestamp past 9999": Case(
        lambda d: _jsonl(
            next(LOOP.glob("runs/*.trace.jsonl")),
            d / ".loopengt/runs/t1.trace.jsonl",
            _set("timestamp", EDGE_HIGH),
        ),
        Event,
        "at",
        "at",
        EDGE_HIGH,
        _unstored("at"),
    ),
    "harness trace tokens_in beyond 64 bits": Case(
        lambda d: _jsonl(TRACE, d / "traces" / TRACE.name, _first_payload("tokens_in", HUGE)),
        Event,
        "input_tokens",
        "input_tokens",
        str(HUGE),
        _unstored("input_tokens"),
    ),
    "harness trace epoch timestamp beyond the range": Case(
        lambda d: _jsonl(TRACE, d / "traces" / TRACE.name, _set("timestamp", 1e20)),
        Event,
        "at",
        "at",
        "1e+20",
        _unstored("at"),
    ),
    "harness budget tokens_in beyond 64 bits": Case(
        lambda d: _json(
            next((HARNESS / "budgets").glob("*.json")),
            d / "budgets" / next((HARNESS / "budgets").glob("*.json")).name,
            lambda doc: doc.update(tokens_in=BIG),
        ),
        Run,
        "input_tokens",
        "input_tokens",
        str(BIG),
        _unstored("input_tokens"),
    ),
    "techrevati usage input_tokens beyond 64 bits": Case(
        lambda d: _jsonl(
            TECH / "usage_only.usage.jsonl", d / "usage_only.usage.jsonl", _first_usage("input_tokens", BIG)
        ),
        Event,
        "input_tokens",
        "input_tokens",
        str(BIG),
        _unstored("input_tokens"),
    ),
    "techrevati event emitted_at before year 1": Case(
        lambda d: _jsonl(TECH / "failures.jsonl", d / "failures.jsonl", _set("emitted_at", EDGE_LOW)),
        Event,
        "at",
        "at",
        EDGE_LOW,
        lambda row: row.data["unstored"]["at"],
    ),
    "techrevati role an object": Case(
        lambda d: _jsonl(TECH / "failures.jsonl", d / "failures.jsonl", _set("role", {"name": "analyst"})),
        Event,
        "agent_id",
        "agent_id",
        "{'name': 'analyst'}",
        lambda row: row.data["unstored"]["agent_id"] == {"name": "analyst"},
    ),
    "techrevati SQLite store cost_usd REAL infinity": Case(
        lambda d: _sqlite(
            TECH / "resume.sqlite",
            d / "resume.sqlite",
            "UPDATE usage_records SET cost_usd = 9e999 WHERE id = 1",
        ),
        Event,
        "cost_usd",
        "cost_usd",
        "inf",
        _unstored("cost_usd"),
    ),
    "loopengt SQLite trace duration_seconds REAL -infinity": Case(
        lambda d: _sqlite(
            LOOP / "traces.db",
            d / ".loopengt/traces.db",
            "UPDATE events SET duration_seconds = -9e999 WHERE rowid = (SELECT min(rowid) FROM events)",
        ),
        Event,
        "duration_s",
        "duration_s",
        "-inf",
        _unstored("duration_s"),
    ),
    "loopengt trace duration_seconds 1e400 (JSON Lines)": Case(
        lambda d: _beyond_double(
            _jsonl(
                next(LOOP.glob("runs/*.trace.jsonl")),
                d / ".loopengt/runs/t1.trace.jsonl",
                _set("duration_seconds", MARK),
            )
        ),
        Event,
        "duration_s",
        "duration_s",
        "inf",
        _unstored("duration_s"),
    ),
    "harness budget cost_usd 1e400 (JSON)": Case(
        lambda d: _beyond_double(
            _json(
                next((HARNESS / "budgets").glob("*.json")),
                d / "budgets" / next((HARNESS / "budgets").glob("*.json")).name,
                lambda doc: doc.update(cost_usd=MARK),
            )
        ),
        Run,
        "reported_cost_usd",
        "cost_usd",
        "inf",
        _unstored("cost_usd"),
    ),
}


def _ingest(db_url: str, root: Path) -> tuple[Store, Any]:
    store = Store(make_engine(db_url))
    return store, ingest_paths([root], store)


@pytest.mark.parametrize("name", list(CASES))
def test_a_value_no_column_holds_fails_one_field(name: str, db_url: str, tmp_path: Path) -> None:
    case = CASES[name]
    path = case.make(tmp_path / "agent")
    written = path.read_bytes()
    store, summary = _ingest(db_url, tmp_path / "agent")
    try:
        assert summary.files_failed == 0, summary.failures
        (file,) = queries.source_files(store.engine)
        assert file["outcome"] == "loaded", file
        named = [w for w in file["warnings"] if f"field {case.field}: value {case.shown} " in w]
        assert named, file["warnings"]
        assert "stored as null" in named[0]
        with store.engine.connect() as connection:
            rows = connection.execute(select(case.table)).all()
        emptied = [row for row in rows if getattr(row, case.column) is None]
        assert rows and emptied, f"no {case.table.__tablename__} row lost its {case.column}"
        kept = [row for row in emptied if _holds(case, row)]
        assert kept, f"no stored row keeps the value {case.shown}"
        assert path.read_bytes() == written  # never rewritten
    finally:
        store.engine.dispose()


def _holds(case: Case, row: Any) -> bool:
    try:
        value = case.kept(row)
    except (KeyError, TypeError):
        return False
    return value is True or str(value) == case.shown


@pytest.mark.parametrize("where", ["project_id", "phase"])
def test_techrevati_list_where_a_project_id_belongs_keys_its_run(
    where: str, db_url: str, tmp_path: Path
) -> None:
    """A list cannot key a run (it is unhashable): the run is keyed by its JSON text, the
    events load with it and the warning names the field."""
    path = _jsonl(
        TECH / "failures.jsonl", tmp_path / "agent/failures.jsonl", _set(where, [4, 2], first_only=False)
    )
    store, summary = _ingest(db_url, tmp_path / "agent")
    try:
        assert summary.files_failed == 0, summary.failures
        (file,) = queries.source_files(store.engine)
        assert file["outcome"] == "loaded", file
        assert any(f"field {where}: value [4,2] is a list" in w for w in file["warnings"]), file["warnings"]
        with store.engine.connect() as connection:
            runs = connection.execute(select(Run.native_id)).scalars().all()
            events = connection.execute(select(Event.data)).scalars().all()
        assert any("[4,2]" in run for run in runs), runs
        assert len(events) == len(path.read_text().splitlines())
        assert all(event[where] == [4, 2] for event in events if where in event)
    finally:
        store.engine.dispose()


def test_a_value_in_new_lines_of_a_growing_log_fails_one_field(db_url: str, tmp_path: Path) -> None:
    """The read of a log's new lines (ingest.tail) checks them too."""
    path = tmp_path / "agent/usage_only.usage.jsonl"
    path.parent.mkdir()
    shutil.copyfile(TECH / "usage_only.usage.jsonl", path)
    store, _ = _ingest(db_url, tmp_path / "agent")
    try:
        line = json.loads(path.read_text().splitlines()[0])
        line["usage"]["output_tokens"] = HUGE
        with path.open("a") as handle:
            handle.write(json.dumps(line) + "\n")
        summary = ingest_paths([tmp_path / "agent"], store)
        assert summary.files_failed == 0 and summary.files_loaded == 1, summary.failures
        (file,) = queries.source_files(store.engine)
        assert any(f"field output_tokens: value {HUGE} " in w for w in file["warnings"]), file["warnings"]
        with store.engine.connect() as connection:
            data = connection.execute(select(Event.data).where(Event.output_tokens.is_(None))).scalars().all()
        assert [d["unstored"] for d in data] == [{"output_tokens": str(HUGE)}]
    finally:
        store.engine.dispose()


def test_nan_and_infinity_in_a_number_field_are_not_stored() -> None:
    """No file delivers NaN (orjson rejects the literal, SQLite stores a NaN REAL as NULL),
    but a parser's arithmetic can (infinity minus infinity): the check catches it like
    infinity, and leaves every good value alone."""
    nan, inf = float("nan"), float("inf")
    run = RunRecord(framework="f", native_id="r", input_tokens=12, cost_usd=nan)
    good = EventRecord(
        framework="f", run_native_id="r", kind="usage", name="u", cost_usd=1e300, input_tokens=2**62
    )
    bad = EventRecord(framework="f", run_native_id="r", kind="usage", name="u", duration_s=-inf, data=[1])
    parsed = check_values(ParsedFile(format="x", runs=[run], events=[good, bad]))
    assert (
        run.cost_usd is None
        and run.input_tokens == 12
        and run.attributes == {"unstored": {"cost_usd": "nan"}}
    )
    assert (good.cost_usd, good.input_tokens, good.data) == (1e300, 2**62, None)
    assert bad.duration_s is None and bad.data == [1]  # data that is no object is left as it is
    assert [w.split(": value ")[0] for w in parsed.warnings] == [
        "run r: field cost_usd",
        "event u of run r: field duration_s",
    ]
    assert "kept in the file)" in parsed.warnings[1]


def test_infinity_in_a_whole_number_field_is_called_out_of_range() -> None:
    """A parser that passes a count through as it was read (1e400 is read as infinity) gets
    the right reason, not "a fraction"."""
    event = EventRecord(framework="f", run_native_id="r", kind="usage", name="u", input_tokens=float("inf"))
    parsed = check_values(ParsedFile(format="x", events=[event]))
    assert event.input_tokens is None
    assert [w.split(": value ")[1].split(";")[0] for w in parsed.warnings] == ["inf out of range (infinite)"]


MAX64 = 2**63 - 1  # the largest signed 64-bit integer: each count fits, two of them do not


def _usage_log(path: Path, counts: list[int]) -> Path:
    line = json.loads((TECH / "usage_only.usage.jsonl").read_text().splitlines()[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        for count in counts:
            line["usage"]["input_tokens"] = count
            handle.write(json.dumps(line) + "\n")
    return path


def _run_input_tokens(store: Store) -> list[Any]:
    with store.engine.connect() as connection:
        return connection.execute(select(Run.input_tokens)).scalars().all()


def test_a_run_total_beyond_64_bits_is_stored_as_null_with_a_warning(db_url: str, tmp_path: Path) -> None:
    """Two counts that each fit add up to more than a column holds: the run's total is null,
    the file loads with a warning saying so, and each event keeps its own count."""
    _usage_log(tmp_path / "agent/usage_only.usage.jsonl", [MAX64, MAX64, 5])
    store, summary = _ingest(db_url, tmp_path / "agent")
    try:
        assert summary.files_failed == 0, summary.failures
        (file,) = queries.source_files(store.engine)
        assert file["outcome"] == "loaded", file
        assert any(
            "the events' input_tokens add up to" in w and "the run's total is stored as null" in w
            for w in file["warnings"]
        ), file["warnings"]
        assert _run_input_tokens(store) == [None]
        with store.engine.connect() as connection:
            counts = connection.execute(select(Event.input_tokens)).scalars().all()
        assert sorted(counts) == [5, MAX64, MAX64]
    finally:
        store.engine.dispose()


def test_a_run_total_that_overflows_when_a_log_grows_is_stored_as_null(db_url: str, tmp_path: Path) -> None:
    """The database sums a run's events again when new lines arrive (SQL SUM, which fails on
    SQLite when it overflows): the new lines load and the run's total is null."""
    path = _usage_log(tmp_path / "agent/usage_only.usage.jsonl", [MAX64])
    store, _ = _ingest(db_url, tmp_path / "agent")
    try:
        assert _run_input_tokens(store) == [MAX64]
        _usage_log(path, [MAX64])
        summary = ingest_paths([tmp_path / "agent"], store)
        assert summary.files_failed == 0 and summary.files_loaded == 1, summary.failures
        (file,) = queries.source_files(store.engine)
        assert file["outcome"] == "loaded", file
        assert _run_input_tokens(store) == [None]
        with store.engine.connect() as connection:
            assert connection.execute(select(Event.input_tokens)).scalars().all() == [MAX64, MAX64]
    finally:
        store.engine.dispose()

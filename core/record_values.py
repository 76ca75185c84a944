"""What a record's typed fields may hold: values every database Baton writes can keep.

A parser copies a source's values into typed fields (tokens, costs, times, names) and the
store binds them to columns. A value no column can hold (an integer beyond 64 bits, NaN or
infinity, a timestamp beyond the range of a datetime, a list where a text belongs) would
fail the whole file at insert, or crash the parser. ``check_values`` runs once per parsed
file, before the store: such a field becomes None and the file gets a warning that names
the field and the value, and the value is kept, as text where JSON cannot hold it, under
``unstored`` in the record's own JSON (``attributes`` of a run or checkpoint, ``data`` of an
event); a checkpoint's document, stored untouched, holds it too. Nothing is clamped.

It lives in core beside the records it checks: the limits are those of the store's columns
(SQLite INTEGER and PostgreSQL BIGINT are signed 64-bit), not of any one format.

Good records are cheap (the ingest's hot path): one attribute fetch, the tuple of the
fields' exact types looked up among those already seen to be allowed, and, when it holds
numbers, the sum of their magnitudes against a bound no in-range set of them reaches. Only a
record that fails either is looked at field by field.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from operator import attrgetter
from typing import Any

from core.records import CheckpointRecord, EventRecord, ParsedFile, PriceRecord, RunRecord
from core.timeutil import OutOfRange

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Numbers whose magnitudes add up to less than this are each within a 64-bit integer.
_FAST_BOUND = 2**62
MAX_WARNINGS = 20  # detailed warnings per file; the rest are counted in one more
_MAX_KNOWN = 1024  # type combinations remembered per record class
_NONE = type(None)
_INT = frozenset({int, _NONE})
_FLOAT = frozenset({float, int, _NONE})
_TIME = frozenset({datetime, _NONE})
_TEXT = frozenset({str, _NONE})
_ALLOWED = {"int": _INT, "float": _FLOAT, "time": _TIME, "text": _TEXT}


class _Fields:
    """The checked fields of one record class, in one order for all its checks."""

    def __init__(self, what: str, side: str | None, **kinds: tuple[str, ...]) -> None:
        self.what = what  # the record's name in a warning
        self.side = side  # its JSON field that keeps an unstored value
        self.names = [name for kind in ("int", "float", "time", "text") for name in kinds.get(kind, ())]
        self.kinds = [kind for kind in ("int", "float", "time", "text") for _ in kinds.get(kind, ())]
        self.allowed = [_ALLOWED[kind] for kind in self.kinds]
        self.numbers = len(kinds.get("int", ())) + len(kinds.get("float", ()))
        self.get = attrgetter(*self.names)
        # The exact types of a record's fields (a tuple) that are all allowed, each with
        # whether it holds a number (whose range is then checked): a handful per format.
        self.known: dict[tuple[type, ...], bool] = {}

    def learn(self, values: tuple[Any, ...]) -> bool | None:
        """Whether these values' types are all allowed (None if not) and include a number."""
        types = tuple(map(type, values))
        if not all(map(frozenset.__contains__, self.allowed, types)):
            return None
        has_numbers = any(kind is not _NONE for kind in types[: self.numbers])
        if len(self.known) < _MAX_KNOWN:
            self.known[types] = has_numbers
        return has_numbers


_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
_RUN = _Fields(
    "run",
    "attributes",
    int=_TOKENS,
    float=("cost_usd",),
    time=("as_of", "started_at", "ended_at"),
    text=("status", "task", "failure_reason"),
)
_CHECKPOINT = _Fields(
    "checkpoint",
    "attributes",
    int=("step",),
    time=("created_at",),
    text=("parent_native_id", "agent_id", "status", "failure_reason", "summary", "chain_key"),
)
_EVENT = _Fields(
    "event",
    "data",
    int=_TOKENS,
    float=("cost_usd", "duration_s"),
    time=("at",),
    text=("native_id", "parent_native_id", "agent_id", "step", "tool", "model", "error"),
)
_EVENT_SUMS = (*_TOKENS, "cost_usd")  # what a run sums of its events
_PRICE = _Fields(
    "price",
    None,
    # Every rate of a price record (USD per 1M tokens), read off the record itself.
    float=tuple(f.name for f in dataclasses.fields(PriceRecord) if f.name.endswith("_per_million")),
)


def check_values(parsed: ParsedFile) -> ParsedFile:
    """Set each field of ``parsed``'s records that no column can hold to None, with a
    warning on the file; returns ``parsed``."""
    problems: list[str] = []
    for fields, records in (
        (_RUN, parsed.runs),
        (_CHECKPOINT, parsed.checkpoints),
        (_EVENT, parsed.events),
        (_PRICE, parsed.prices),
    ):
        if not records:
            continue
        get, known, numbers = fields.get, fields.known, fields.numbers
        magnitude = 0  # of every number of these records: below the bound, no sum of them overflows
        for record in records:
            values = get(record)
            has_numbers = known.get(tuple(map(type, values)))
            if has_numbers is None:
                has_numbers = fields.learn(values)
                if has_numbers is None:
                    _repair(fields, record, values, problems)
                    continue
            if has_numbers:
                size = sum(map(abs, filter(None, values[:numbers])))
                # `not <`, never `>=`: a NaN anywhere makes the sum NaN, and NaN compares false.
                if not size < _FAST_BOUND:
                    _repair(fields, record, values, problems)
                magnitude += size
        if fields is _EVENT and not magnitude < _FAST_BOUND:
            problems.extend(_overflowing_totals(records))
    if problems:
        extra = len(problems) - MAX_WARNINGS
        parsed.warnings.extend(problems[:MAX_WARNINGS])
        if extra > 0:
            parsed.warnings.append(f"... and {extra} more fields not stored for the same reasons")
    return parsed


def _overflowing_totals(events: list[EventRecord]) -> list[str]:
    """Each run whose events' counts (each storable) add up beyond a 64-bit integer, or whose
    costs add up to infinity: the run's total is stored as null (``core.store.runfields``)."""
    totals: dict[tuple[str, str], Any] = {}
    for event in events:
        for name in _EVENT_SUMS:
            value = getattr(event, name)
            if value is not None:
                key = (event.run_native_id, name)
                totals[key] = totals.get(key, 0) + value
    return [
        f"run {run}: the events' {name} add up to {_shown(total)}, beyond what a column holds;"
        " the run's total is stored as null (each event keeps its own)"
        for (run, name), total in totals.items()
        if _problem("int" if name != "cost_usd" else "float", total) is not None
    ]


def _repair(fields: _Fields, record: Any, values: tuple[Any, ...], problems: list[str]) -> None:
    found: list[tuple[str, Any, str]] = []
    for name, kind, value in zip(fields.names, fields.kinds, values, strict=True):
        problem = _problem(kind, value)
        if problem is not None:
            setattr(record, name, None)
            found.append((name, value, problem))
    if not found:
        return
    kept = "the document" if isinstance(record, CheckpointRecord) else "the file"
    side = getattr(record, fields.side) if fields.side else False
    if side is None or isinstance(side, dict):  # a copy: the dict may be part of a document
        setattr(record, fields.side, {**(side or {}), "unstored": {n: _kept(v) for n, v, _ in found}})
        kept += f" and in {fields.side}.unstored"
    label = _label(fields.what, record)
    for name, value, problem in found:
        problems.append(
            f"{label}: field {name}: value {_shown(value)} {problem}; stored as null (kept in {kept})"
        )


def _problem(kind: str, value: Any) -> str | None:
    """Why ``value`` cannot be stored in a field of ``kind``; None when it can."""
    if value is None:
        return None
    if kind == "text":
        return None if isinstance(value, str) else f"is {_type_name(value)}, not text"
    if kind == "time":
        if isinstance(value, OutOfRange):
            return "out of range (beyond the years 1 to 9999 in UTC)"
        return None if isinstance(value, datetime) else f"is {_type_name(value)}, not a time"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"is {_type_name(value)}, not a number"
    if isinstance(value, float):
        if kind == "int":
            if value != value:
                return "is NaN, not a number"
            return "is a fraction, not a whole number" if value - value == 0.0 else "out of range (infinite)"
        return None if value - value == 0.0 else "out of range (NaN or infinite)"
    if INT_MIN <= value <= INT_MAX:
        return None
    return "out of range (a 64-bit integer)"


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "true/false", str: "text"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _kept(value: Any) -> Any:
    """The value as JSON can hold it: numbers and times as their text."""
    if isinstance(value, int | float | datetime) and not isinstance(value, bool):
        return str(value)
    return value


def _shown(value: Any) -> str:
    text = str(value) if isinstance(value, int | float | datetime) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _label(what: str, record: Any) -> str:
    if isinstance(record, RunRecord | CheckpointRecord):
        return f"{what} {record.native_id}"
    if isinstance(record, EventRecord):
        return f"{what} {record.native_id or record.name} of run {record.run_native_id}"
    if isinstance(record, PriceRecord):
        return f"{what} of {record.model}"
    return what

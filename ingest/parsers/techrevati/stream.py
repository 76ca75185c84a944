"""Group a techrevati-runtime event/usage stream into runs.

AgentEvents carry no session, worker or run id, and usage records carry only a model, so
a stream (one file, or the event and usage tables of one database) is cut into runs by the
rule below. Every run shows it in ``attributes["grouping_rule"]`` (the last paragraph of
this docstring, word for word).

A run's id is its (role, phase, project_id) and the time of its first event with a role
(``common.session_run_id``), and its records' ids come from their content
(``common.event_identity``, ``common.usage_identity``), so the same stream held by several
sources (a JSONL sink, an SQLite store, an audit log) is one run whose records are stored
once. A read of new lines only looks up the first events of its sessions' keys from the
start of the file (it stops once it has found them all).

Runs never span files. Within one file (or one database) an event with a role belongs to
the run of its (role, phase, project_id). A record without a role (a usage record, a phase
gate event) belongs to the run whose session is open at that point: it had an event and
has not ended with agent.completed or with an agent.failed that carries no data. If no
session is open, the record goes to the next run that has an event with a role (0.1
sessions record usage before their first event); records left over at the end of the file
form the run <file>#unattributed. Sessions of one (role, phase, project_id) in one file
are one run; an agent.started while the previous session never ended counts as an
interrupted session (a crash followed by a resume). A run's status, failure and signals
are those of its last session. When only the new lines of a growing file are read, the
session open before them (that of the last earlier event with a role, unless it ended)
continues, with its earlier events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.records import EventRecord, ParsedFile, RunRecord
from ingest.content import Content, line_values
from ingest.errors import ParseError
from ingest.parsers.techrevati.common import (
    FRAMEWORK,
    budget_facts,
    circuit_facts,
    event_identity,
    event_record,
    is_agent_event,
    is_terminal,
    is_usage_record,
    recovery_facts,
    session_run_id,
    usage_identity,
    usage_record,
)
from ingest.regular_file import lines_before, open_regular

# The docstring's last paragraph, word for word (tests check that they agree).
GROUPING_RULE = (
    "Runs never span files. Within one file (or one database) an event with a role belongs to the run of "
    "its (role, phase, project_id). A record without a role (a usage record, a phase gate event) belongs "
    "to the run whose session is open at that point: it had an event and has not ended with "
    "agent.completed or with an agent.failed that carries no data. If no session is open, the record goes "
    "to the next run that has an event with a role (0.1 sessions record usage before their first event); "
    "records left over at the end of the file form the run <file>#unattributed. Sessions of one (role, "
    "phase, project_id) in one file are one run; an agent.started while the previous session never ended "
    "counts as an interrupted session (a crash followed by a resume). A run's status, failure and signals "
    "are those of its last session. When only the new lines of a growing file are read, the session open "
    "before them (that of the last earlier event with a role, unless it ended) continues, with its "
    "earlier events."
)
UNATTRIBUTED = "unattributed"
STATUS_OF_TERMINAL = {"agent.completed": "completed", "agent.failed": "failed"}


Key = tuple[Any, ...]  # (role, phase, project_id)
Item = tuple[str | None, dict[str, Any], Any]  # (event id, AgentEvent or usage dict, fallback time)


@dataclass
class OpenSession:
    """The session open where a read starts, and its AgentEvents read before (oldest first);
    ``anchor`` is the id of the run's last AgentEvent before the read, ``usage_since`` the
    number of usage records after it (the next usage record's place, see ``usage_identity``)."""

    key: Key
    earlier: list[dict[str, Any]]
    anchor: str = "start"
    usage_since: int = 0


@dataclass
class Group:
    key: Key | None  # None for unattributed records
    items: list[Item] = field(default_factory=list)
    earlier: list[dict[str, Any]] = field(default_factory=list)  # events of its session read before
    first: dict[str, Any] | None = None  # the first event with a role of its key in the source
    pending: set[int] = field(default_factory=set)  # items that waited for the run's next event
    anchor: str = "start"
    usage_since: int = 0


def session_key(value: Any) -> Key | None:
    """The (role, phase, project_id) of an AgentEvent with a role, else None. A phase or
    project_id that is not a text or number (a list, an object) is keyed by its JSON text:
    the run still groups its events, and the event's data keeps the value as written."""
    role = value.get("role") if is_agent_event(value) else None
    if not isinstance(role, str) or not role:
        return None
    return (role, _key_part(value.get("phase")), _key_part(value.get("project_id")))


def _key_part(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def open_session(newest_first: Iterable[Any]) -> OpenSession | None:
    """The session still open after a stream, given its values newest first: the session of
    the newest event with a role unless that event ended it, with its events back to its
    ``agent.started`` (or the end of the previous session of the same key)."""
    found: OpenSession | None = None
    anchor: str | None = None
    usage_since = 0
    for value in newest_first:
        key = session_key(value)
        if key is None:
            if found is None and anchor is None:  # newer than the open session's last event
                if is_agent_event(value):
                    anchor = event_identity(value)
                elif is_usage_record(value):
                    usage_since += 1
            continue
        if found is None:
            if is_terminal(value):
                return None
            found = OpenSession(key, [], anchor or event_identity(value), usage_since)
        elif key != found.key:
            continue
        elif is_terminal(value):
            break
        found.earlier.insert(0, value)
        if value.get("event") == "agent.started":
            break
    return found


def group_stream(
    items: Iterable[Item], before: OpenSession | None = None, warnings: list[str] | None = None
) -> list[Group]:
    """Group ``items`` (in stream order); ``before`` is the session open where they start.
    A run keyed by the JSON text of a phase or project_id gets a line in ``warnings``."""
    groups: dict[Key | None, Group] = {}
    open_key: Key | None = None
    if before is not None:
        open_key = before.key
        groups[open_key] = Group(
            open_key,
            earlier=before.earlier,
            first=before.earlier[0] if before.earlier else None,
            anchor=before.anchor,
            usage_since=before.usage_since,
        )
    pending: list[Item] = []
    for item in items:
        value = item[1]
        key = session_key(value)
        if key is not None:
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(key)
                if warnings is not None:
                    warnings.extend(_key_warnings(item[0], value))
            if group.first is None:
                group.first = value
            group.pending.update(range(len(group.items), len(group.items) + len(pending)))
            group.items.extend(pending)
            pending = []
            group.items.append(item)
            open_key = None if is_terminal(value) else key
        elif open_key is not None:
            groups[open_key].items.append(item)
        else:
            pending.append(item)
    if pending:
        groups.setdefault(None, Group(None)).items.extend(pending)
    return [group for group in groups.values() if group.items]


def _key_warnings(native_id: str | None, value: dict[str, Any]) -> list[str]:
    return [
        f"record {native_id}: field {name}: value {_key_part(value[name])[:60]} is "
        f"{'a list' if isinstance(value[name], list) else 'an object'}, not a text or number; "
        "its run is keyed by its JSON text (kept in the event's data)"
        for name in ("phase", "project_id")
        if name in value and _key_part(value[name]) is not value[name]
    ]


def _native_id(prefix: str, key: Key | None) -> str:
    if key is None:
        return f"{prefix}#{UNATTRIBUTED}"
    role, phase, project = key
    return f"{prefix}#{role}/{phase or '-'}/{'-' if project is None else project}"


def session_outcome(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Status, failure, signals and counts of one run's AgentEvents (in order).

    Status, failure and signals are those of the last session: an ``agent.started``, or any
    event after a session ended, starts a new one. ``failure_signals`` keep the raw signals
    of that session (recovery scenario and outcome, the budget event, the terminal failure's
    class and circuit state) whatever its status."""
    status, inferred, terminal = "running", ["status"], None
    started = interrupted = 0
    session_open = False
    warnings: list[dict[str, Any]] = []
    signals: dict[str, Any] = {}
    for event in events:
        name = event.get("event")
        if name == "agent.started" or not session_open:
            interrupted += name == "agent.started" and session_open
            started += name == "agent.started"
            signals, warnings, terminal = {}, [], None
        session_open = True
        if str(name).startswith("agent.recovery."):
            facts = recovery_facts(event)
            signals |= {"scenario": facts["scenario"]} if "scenario" in facts else {}
            signals |= {"recovery_outcome": facts["outcome"]} if "outcome" in facts else {}
        budget = budget_facts(event) if event.get("data") else None
        if budget:  # the budget event (a terminal error repeats only its text: failure_reason)
            signals["budget_exceeded"] = budget
        if name in ("agent.failed", "governance.breach") and not is_terminal(event):
            warnings.append(
                {key: event[key] for key in ("event", "failure_class", "detail", "data") if key in event}
            )
        if is_terminal(event):
            terminal, session_open = event, False
            status, inferred = STATUS_OF_TERMINAL.get(str(name), "failed"), []
            if name != "agent.completed":
                signals |= {key: event[key] for key in ("event", "status", "failure_class") if key in event}
                signals |= circuit_facts(event.get("detail"))
        else:
            blocked = name == "agent.blocked" and (event.get("data") or {}).get("kind") == "human_input"
            status, inferred = ("waiting", []) if blocked else ("running", ["status"])
    counts = {"sessions_started": started, "interrupted_sessions": interrupted, "warnings": warnings}
    return {
        "status": status,
        "inferred": inferred,
        "failure_reason": terminal.get("detail") if status == "failed" and terminal else None,
        "failure_signals": signals,
        "attributes": {key: value for key, value in counts.items() if value},
    }


def group_records(
    prefix: str, group: Group, rule: str = GROUPING_RULE, native_id: str | None = None
) -> tuple[RunRecord, list[EventRecord]]:
    """One group as a run and its events (agent = the role, also for role-less records).

    Tokens and cost are left to the store, which sums the run's usage events: a tail read
    of an append-only file adds events, and a sum over the new lines alone would replace
    the run's total."""
    if native_id is None and group.key is not None and group.first is not None:
        native_id = session_run_id(group.key, group.first)
    run_id = native_id or _native_id(prefix, group.key)
    role = group.key[0] if group.key else None
    events: list[EventRecord] = []
    agent_events: list[dict[str, Any]] = list(group.earlier)
    ids = record_ids(group) if group.key is not None else [nid for nid, _, _ in group.items]
    for nid, (_, value, at) in zip(ids, group.items, strict=True):
        if is_agent_event(value):
            agent_events.append(value)
            events.append(event_record(run_id, value, nid, role))
        else:
            events.append(usage_record(run_id, value, nid, role, at))
    times = [e.at for e in events if e.at is not None]
    outcome = session_outcome(agent_events) if agent_events else None
    attributes = {"grouping_rule": rule, "source": prefix} | (outcome["attributes"] if outcome else {})
    if group.key:
        attributes |= {"role": group.key[0], "phase": group.key[1], "project_id": group.key[2]}
    run = RunRecord(
        framework=FRAMEWORK,
        native_id=run_id,
        as_of=max(times) if times else None,
        status=outcome["status"] if outcome else None,
        agents=[role] if role else [],
        started_at=min(times) if times else None,
        ended_at=max(times) if times else None,
        failure_reason=outcome["failure_reason"] if outcome else None,
        failure_signals=outcome["failure_signals"] if outcome else {},
        attributes=attributes,
        inferred=outcome["inferred"] if outcome else [],
    )
    return run, events


def record_ids(group: Group) -> list[str | None]:
    """Content ids of a session's records (module doc): an AgentEvent by its fields (a
    repeat in one read gets ``#2``...), a usage record by the event before it in the run
    (records that waited for the run's first event: by that event, ``next:<id>``)."""
    ids: list[str | None] = []
    seen: dict[str, int] = {}
    anchor, since = group.anchor, group.usage_since
    waiting: list[int] = []
    for index, (_, value, _) in enumerate(group.items):
        if is_agent_event(value):
            identity = event_identity(value)
            repeat = seen[identity] = seen.get(identity, 0) + 1
            identity += f"#{repeat}" if repeat > 1 else ""
            for place, at in enumerate(waiting):
                ids[at] = usage_identity(group.items[at][1], f"next:{identity}", place)
            waiting = []
            ids.append(identity)
            anchor, since = identity, 0
        elif index in group.pending:
            waiting.append(index)
            ids.append(None)
        else:
            ids.append(usage_identity(value, anchor, since))
            since += 1
    return ids


def first_events_before(path: Any, end: int, keys: set[Key]) -> dict[Key, dict[str, Any]]:
    """The first event with a role of each of ``keys`` in the lines before byte ``end``
    (a run's id is that of its key's first event: ``session_run_id``); stops once all are
    found, so a key of the file's first lines costs only those lines."""
    found: dict[Key, dict[str, Any]] = {}
    if not keys:
        return found
    try:
        with open_regular(path) as handle:
            position = 0
            for raw in handle:
                position += len(raw)
                if position > end:
                    break
                if b'"role"' not in raw:
                    continue
                try:
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                key = session_key(value)
                if key in keys and key not in found:
                    found[key] = value
                    if len(found) == len(keys):
                        break
    except OSError:
        pass
    return found


def stream_records(
    prefix: str,
    items: Iterable[Item],
    before: OpenSession | None = None,
    firsts: Callable[[set[Key]], dict[Key, dict[str, Any]]] | None = None,
    warnings: list[str] | None = None,
) -> tuple[list[RunRecord], list[EventRecord]]:
    """Runs and events of a stream; ``firsts`` looks up the first events of keys in the
    part of the source not read now (a read of new lines)."""
    runs: list[RunRecord] = []
    events: list[EventRecord] = []
    groups = group_stream(items, before, warnings)
    if firsts is not None:
        for key, first in firsts({group.key for group in groups if group.key is not None}).items():
            for group in groups:
                if group.key == key:
                    group.first = first
    for group in groups:
        run, group_events = group_records(prefix, group)
        runs.append(run)
        events.extend(group_events)
    return runs, events


def _values(content: Content) -> list[tuple[str, Any]]:
    if content.kind == "json" and isinstance(content.json, list):
        return [(f"#{index}", value) for index, value in enumerate(content.json)]
    return [(f"L{number}", value) for number, value in line_values(content)]


def open_session_before(content: Content) -> OpenSession | None:
    """The session open where a tail read starts (``content.offset``), from the lines
    before it read backwards up to that session's start (not the whole file again)."""

    def values() -> Iterator[Any]:
        for raw in lines_before(content.path, content.offset):
            try:
                yield orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue

    try:
        return open_session(values())
    except OSError:
        return None


def parse_stream(content: Content, name: str) -> ParsedFile:
    """AgentEvents and usage records in file order, grouped into runs (shared with the
    usage-only format, so a usage file that later gains events keeps its run ids)."""
    items = []
    for native_id, value in _values(content):
        if not (is_agent_event(value) or is_usage_record(value)):
            line = int(native_id[1:]) if native_id.startswith("L") else None
            where = "" if line else f" (element {native_id[1:]})"
            raise ParseError(content.path, f"not a techrevati AgentEvent or usage record{where}", line)
        items.append((native_id, value, None))
    before, firsts = None, None
    if content.offset > 0:
        before = open_session_before(content)

        def firsts(keys: set[Key]) -> dict[Key, dict[str, Any]]:
            return first_events_before(content.path, content.offset, keys)

    warnings: list[str] = []
    runs, events = stream_records(str(content.path), items, before, firsts, warnings)
    return ParsedFile(format=name, runs=runs, events=events, warnings=warnings)

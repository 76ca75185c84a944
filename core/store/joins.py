"""Runs that are part of another file's run (``RunRecord.join_keys``), linked in the store.

A techrevati worker dump names its worker, not its session, and holds no time its session's
events hold (it is created before the session's first event and notes its last transition
before the session's last event), so its parser cannot give it the session's run id. It
declares keys instead: it joins the run of its framework whose native id is ``<key>@...``
(a host) and whose own files' time window overlaps its own. The rule is applied under the
write lock to every key a batch touches (a joining run written or gone, a host written,
changed or gone), from what the database holds then, so the result does not depend on which
file came first or in which batch. Of several hosts, the first to start at or after the
joining run's start is taken, else the last to start before it (ties: the run id).

Joining moves the run's fragment and events (rows of its file) to the host's run, their ids
unchanged (an event's id is that of its own run, so the events can be told apart and moved
back); when no host fits any more, they move back to the run's own id. The merge
(``core.store.runmerge``) then lists the file among the host run's sources. Checkpoints
are not moved (the joining runs have none).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from core import ids
from core.store.lookups import chunks
from core.tables import Event, Run, RunFragment, RunJoin
from core.timeutil import parse_timestamp

Window = tuple[datetime | None, datetime | None]


def host_key(native_id: str) -> str | None:
    """The key a run offers to joining runs: its native id before the last ``@``."""
    key, at, _ = native_id.rpartition("@")
    return key if at else None


def framework_keys(
    connection: Connection, rows_runs: dict[str, dict[str, Any]], touched: set[str]
) -> set[tuple[str, str]]:
    """The (framework, key) pairs a batch touched as hosts: its runs and the runs it took
    records from, of frameworks that have joining runs (none: no lookup beyond one)."""
    frameworks = set(connection.execute(select(RunJoin.framework).distinct()).scalars())
    if not frameworks:
        return set()
    found = {
        (run["framework"], run["native_id"]) for run in rows_runs.values() if run["framework"] in frameworks
    }
    others = sorted(touched - set(rows_runs))
    for part in chunks(others):
        found.update(
            connection.execute(
                select(Run.framework, Run.native_id).where(Run.id.in_(part), Run.framework.in_(frameworks))
            ).all()
        )
    return {(framework, key) for framework, native in found if (key := host_key(native)) is not None}


def relink(connection: Connection, keys: set[tuple[str, str]]) -> set[str]:
    """Store every joining run of ``keys`` as its host's run, or as its own when none
    fits; returns the runs records moved from or to (to be recomputed)."""
    guests = _guests(connection, keys)
    if not guests:
        return set()
    hosts = _hosts(connection, {(g["framework"], k) for g in guests.values() for k in g["keys"]})
    moved: set[str] = set()
    for guest in guests.values():
        candidates = {
            run: window
            for key in guest["keys"]
            for run, window in hosts.get((guest["framework"], key), {}).items()
            if _overlap(window, (guest["started_at"], guest["ended_at"]))
        }
        home = _pick(candidates, guest["started_at"]) or guest["own_run_id"]
        if home != guest["run_id"]:
            _move(connection, guest, home)
            moved |= {guest["run_id"], home}
    return moved


def _guests(connection: Connection, keys: set[tuple[str, str]]) -> dict[tuple[int, str], dict[str, Any]]:
    """The joining runs with one of ``keys``, each with all its keys: (file, own run) -> row."""
    columns = (
        RunJoin.source_file_id,
        RunJoin.framework,
        RunJoin.join_key,
        RunJoin.native_id,
        RunJoin.own_run_id,
        RunJoin.started_at,
        RunJoin.ended_at,
        RunJoin.run_id,
    )
    wanted = {key for _, key in keys}
    own: set[str] = set()
    for part in chunks(sorted(wanted)):
        for framework, key, run in connection.execute(
            select(RunJoin.framework, RunJoin.join_key, RunJoin.own_run_id).where(RunJoin.join_key.in_(part))
        ):
            if (framework, key) in keys:
                own.add(run)
    guests: dict[tuple[int, str], dict[str, Any]] = {}
    for part in chunks(sorted(own)):
        for row in connection.execute(select(*columns).where(RunJoin.own_run_id.in_(part))).mappings():
            guest = guests.setdefault((row["source_file_id"], row["own_run_id"]), dict(row) | {"keys": []})
            guest["keys"].append(row["join_key"])
    return guests


def _hosts(connection: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Window]]:
    """For each key, its hosts: run id -> the time window of the run's own fragments (not
    those of runs that joined it; a run that holds none is no host)."""
    native: dict[str, tuple[str, str]] = {}  # run id -> (framework, native id)
    sqlite = connection.dialect.name == "sqlite"
    for framework, key in sorted(keys):
        # On SQLite a range of the (framework, native_id) index (text compares bytewise; "A"
        # follows "@"); elsewhere LIKE, as a range would depend on the collation.
        prefix = (
            Run.native_id.between(key + "@", key + "A", symmetric=False)
            if sqlite
            else Run.native_id.startswith(key + "@", autoescape=True)
        )
        query = select(Run.id, Run.native_id).where(Run.framework == framework, prefix)
        for run, native_id in connection.execute(query):
            if host_key(native_id) == key:  # a later "@" in the id; LIKE may ignore case
                native[run] = (framework, native_id)
    windows: dict[str, list[Window]] = {}
    for part in chunks(sorted(native)):
        query = select(RunFragment.run_id, RunFragment.data).where(RunFragment.run_id.in_(part))
        for run, data in connection.execute(query):
            data = data or {}
            if data.get("native_id") == native[run][1] and not data.get("join_keys"):
                windows.setdefault(run, []).append(
                    (parse_timestamp(data.get("started_at")), parse_timestamp(data.get("ended_at")))
                )
    hosts: dict[tuple[str, str], dict[str, Window]] = {}
    for run, found in windows.items():
        starts = [start for start, _ in found if start is not None]
        ends = [end for _, end in found if end is not None]
        if starts or ends:
            framework, native_id = native[run]
            window = (min(starts or ends), max(ends or starts))
            hosts.setdefault((framework, host_key(native_id) or ""), {})[run] = window
    return hosts


def _overlap(host: Window, guest: Window) -> bool:
    """Whether the windows share a moment; a guest with no end is still open."""
    (host_start, host_end), (start, end) = host, guest
    if start is None or host_start is None or host_end is None:
        return False
    return host_end >= start and (end is None or host_start <= end)


def _pick(candidates: dict[str, Window], start: datetime | None) -> str | None:
    if not candidates or start is None:
        return None
    after = sorted((window[0], run) for run, window in candidates.items() if window[0] >= start)  # type: ignore[operator]
    if after:
        return after[0][1]
    return max((window[0], run) for run, window in candidates.items())[1]  # type: ignore[type-var]


def _move(connection: Connection, guest: dict[str, Any], home: str) -> None:
    """Store the joining run's fragment and events (of its file) as ``home``'s."""
    file_id, here, own = guest["source_file_id"], guest["run_id"], guest["own_run_id"]
    if home == own and connection.execute(select(Run.id).where(Run.id == own)).first() is None:
        connection.execute(
            Run.__table__.insert(),
            {
                "id": own,
                "framework": guest["framework"],
                "native_id": guest["native_id"],
                "status": "unknown",
                "checkpoint_count": 0,
                "event_count": 0,
            },
        )
    fragments = [
        fragment
        for fragment, data in connection.execute(
            select(RunFragment.id, RunFragment.data).where(
                RunFragment.source_file_id == file_id, RunFragment.run_id == here
            )
        )
        if (data or {}).get("native_id") == guest["native_id"]
    ]
    events = [
        event
        for event, native_id in connection.execute(
            select(Event.id, Event.native_id).where(Event.source_file_id == file_id, Event.run_id == here)
        )
        if (ids.event_id(own, native_id, "", 0) == event if native_id else here == own)
    ]
    _set_run(connection, RunFragment, fragments, home)
    _set_run(connection, Event, events, home)
    connection.execute(
        RunJoin.__table__.update()
        .where(RunJoin.source_file_id == file_id, RunJoin.own_run_id == own)
        .values(run_id=home)
    )


def _set_run(connection: Connection, table: Any, keys: Iterable[Any], run: str) -> None:
    for part in chunks(list(keys)):
        connection.execute(table.__table__.update().where(table.id.in_(part)).values(run_id=run))

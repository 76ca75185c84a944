"""Per-run cost and failure figures kept in the database, so that every page aggregates in
SQL (a GROUP BY over one row per run, or per run, agent, model and day) instead of pricing
every model call in Python on each view.

The rows are derived, never a source of truth: :func:`refresh` recomputes a run's rows when
the run's ``updated_at`` differs from the one they were computed at (the store sets it on
every change of the run), when the prices changed (their fingerprint), or when the run is
gone, with exactly the code ``core.costs`` and ``core.failures`` use, so the figures cannot
drift from ``baton costs`` or ``baton failures``. After one new file only that file's runs
are recomputed. A reader that refreshes writes to the database (the rollup tables only);
refreshes take turns (a lock in this process; the database's own write lock across
processes).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.engine import Connection, Engine

from core.call_cost import price_call
from core.costs import GROUPINGS, CostSummary, load_calls
from core.failures import failed_runs
from core.prices import PriceBook
from core.run_dicts import RUN_FIELDS, run_to_dict
from core.run_names import run_name
from core.tables import RollupState, Run, RunCostPart, RunRollup
from core.timeutil import utcnow

ANALYSIS_VERSION = "1"  # bump when costs or failure analysis compute differently
CHUNK = 500
_LOCK = threading.Lock()
_PART_SUMS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reported_usd",
    "reported_calls",
    "computed_usd",
    "computed_calls",
    "unpriced_calls",
    "unpriced_tokens",
)
_GROUP_COLUMN = {
    "run": RunCostPart.run_id,
    "agent": RunCostPart.agent,
    "model": RunCostPart.model,
    "framework": RunCostPart.framework,
    "day": RunCostPart.day,
}


def fingerprint(book: PriceBook) -> str:
    return f"{ANALYSIS_VERSION}:{book.fingerprint()}"


@dataclass(slots=True)
class Refreshed:
    recomputed: int = 0
    removed: int = 0
    remaining: int = 0  # stale runs left for a later call (``limit``)
    costs_version: int = 0
    failures_version: int = 0


STATE = "runs"
# Writers stamp updated_at under the write lock, after every stamp committed before
# (core.store.lookups.commit_stamp), so a run changed after a refresh is always newer than its
# watermark: the index on run.updated_at finds it without reading the other runs. The margin
# covers databases also written by versions that stamped before the lock (a stamp older than
# the watermark committed just after a refresh read); sweeping it joins every run stamped in
# the last MARGIN, so it runs at most once per SWEEP_EVERY per database and process, not on
# every new file (at 100k runs loaded in the last ten minutes a sweep reads them all: 0.5 s).
MARGIN = timedelta(minutes=10)
SWEEP_EVERY = 60.0  # seconds
_swept: dict[str, float] = {}  # database URL -> monotonic time of its last margin sweep


def _state(connection: Connection) -> Any:
    return connection.execute(select(RollupState).where(RollupState.name == STATE)).first()


def _stale(connection: Connection, mark: str, state: Any, sweep: bool = True) -> list[tuple[str, Any]]:
    """Runs whose rows are missing or out of date, with their updated_at, newest first.

    With the prices unchanged since the last complete refresh, only runs updated after its
    watermark are looked at (and, with ``sweep``, those stamped within MARGIN of when it
    read): an index range of the run table, no join over every run."""
    query = (
        select(Run.id, Run.updated_at)
        .select_from(Run)
        .outerjoin(RunRollup, RunRollup.run_id == Run.id)
        .where(
            or_(
                RunRollup.run_id.is_(None),
                RunRollup.as_of.is_distinct_from(Run.updated_at),
                RunRollup.fingerprint != mark,
            )
        )
    )
    if state is not None and state.fingerprint == mark and state.watermark is not None:
        since = state.watermark
        if sweep and state.checked_at is not None:
            since = min(since, state.checked_at - MARGIN)
            query = query.where(Run.updated_at >= since)
        else:
            query = query.where(Run.updated_at > since)
    rows = connection.execute(query).all()
    return sorted(((r[0], r[1]) for r in rows), key=lambda r: (r[1] is not None, r[1] or 0), reverse=True)


def _sweep_due(engine: Engine) -> bool:
    """Whether this refresh also sweeps the margin (the first one of a process always does)."""
    key = str(engine.url)
    now = time.monotonic()
    if now - _swept.get(key, -SWEEP_EVERY) < SWEEP_EVERY:
        return False
    _swept[key] = now
    return True


def _gone(connection: Connection) -> list[str]:
    """Rows of runs no longer in the database (only looked for when the counts differ)."""
    runs = connection.execute(select(func.count()).select_from(Run)).scalar_one()
    rows = connection.execute(select(func.count()).select_from(RunRollup)).scalar_one()
    if rows <= runs:
        return []
    query = (
        select(RunRollup.run_id)
        .select_from(RunRollup)
        .outerjoin(Run, Run.id == RunRollup.run_id)
        .where(Run.id.is_(None))
    )
    return list(connection.execute(query).scalars())


def _rows(
    engine: Engine, runs: list[tuple[str, Any]], book: PriceBook, mark: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rollup and cost-part rows of ``runs`` (ids with their updated_at)."""
    ids = [run_id for run_id, _ in runs]
    totals: dict[str, CostSummary] = {}
    parts: dict[tuple[str, Any, Any, Any], tuple[str, CostSummary]] = {}
    for call in load_calls(engine, ids):
        cost = price_call(call, book)
        totals.setdefault(call.run_id, CostSummary(key=call.run_id)).add(call, cost)
        day = call.at.date().isoformat() if call.at else None
        key = (call.run_id, call.agent, call.model, day)
        if key not in parts:
            parts[key] = (call.framework, CostSummary(key=key))
        parts[key][1].add(call, cost)
    infos = {info.run_id: info for info in failed_runs(engine, ids)}
    names = _names(engine, list(infos))
    rollups = []
    for run_id, updated_at in runs:
        total, info = totals.get(run_id), infos.get(run_id)
        rollups.append(
            {
                "run_id": run_id,
                "as_of": updated_at,
                "fingerprint": mark,
                "cost_usd": total.cost_usd if total else None,
                "cost_provenance": total.provenance if total else None,
                "calls": total.calls if total else 0,
                "unpriced_calls": total.unpriced_calls if total else 0,
                "unpriced_tokens": total.unpriced_tokens if total else 0,
                "failure_class": info.failure_class if info else None,
                "normalized_reason": info.normalized_reason if info else None,
                "reason": info.reason if info else None,
                "failed_at": info.failed_at if info else None,
                "failure": info.to_dict() | {"name": names.get(run_id)} if info else None,
            }
        )
    part_rows = [
        {
            "run_id": key[0],
            "framework": framework,
            "agent": key[1],
            "model": key[2],
            "day": key[3],
            **{name: getattr(summary, name) for name in _PART_SUMS},
            "prices": summary.prices or None,
        }
        for key, (framework, summary) in parts.items()
    ]
    return rollups, part_rows


def _names(engine: Engine, run_ids: list[str]) -> dict[str, str]:
    if not run_ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(*[getattr(Run, f) for f in RUN_FIELDS]).where(Run.id.in_(run_ids)))
        return {row.id: run_name(run_to_dict(row)) for row in rows}


def _changed(connection: Connection, ids: list[str]) -> tuple[bool, bool]:
    """Whether the runs ``ids`` have cost parts, and failures, before they are replaced."""
    costs = connection.execute(select(RunCostPart.id).where(RunCostPart.run_id.in_(ids)).limit(1)).first()
    failures = connection.execute(
        select(RunRollup.run_id)
        .where(RunRollup.run_id.in_(ids), RunRollup.failure_class.is_not(None))
        .limit(1)
    ).first()
    return costs is not None, failures is not None


def _replace(
    connection: Connection, ids: list[str], rollups: list[dict], parts: list[dict]
) -> tuple[bool, bool]:
    had_costs, had_failures = _changed(connection, ids)
    connection.execute(delete(RunCostPart).where(RunCostPart.run_id.in_(ids)))
    connection.execute(delete(RunRollup).where(RunRollup.run_id.in_(ids)))
    if rollups:
        connection.execute(RunRollup.__table__.insert(), rollups)
    if parts:
        connection.execute(RunCostPart.__table__.insert(), parts)
    failures = any(r["failure_class"] is not None for r in rollups)
    return had_costs or bool(parts), had_failures or failures


def _save_state(connection: Connection, state: Any, **values: Any) -> None:
    if state is None:
        connection.execute(RollupState.__table__.insert(), {"name": STATE, **values})
    else:
        connection.execute(RollupState.__table__.update().where(RollupState.name == STATE).values(**values))


def refresh(engine: Engine, book: PriceBook, limit: int | None = None) -> Refreshed:
    """Bring the rollup rows up to date with the runs and ``book`` (at most ``limit`` runs
    this call, newest first; ``remaining`` says how many are left); returns what it did."""
    mark = fingerprint(book)
    done = Refreshed()
    read_at = utcnow()
    with _LOCK:
        with engine.connect() as connection:
            state = _state(connection)
            stale = _stale(connection, mark, state, sweep=_sweep_due(engine))
        todo = stale if limit is None else stale[:limit]
        done.remaining = len(stale) - len(todo)
        costs_changed = failures_changed = False
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            rollups, parts = _rows(engine, chunk, book, mark)
            with engine.begin() as connection:
                costs, failures = _replace(connection, [run_id for run_id, _ in chunk], rollups, parts)
            costs_changed, failures_changed = costs_changed or costs, failures_changed or failures
            done.recomputed += len(chunk)
        with engine.begin() as connection:
            state = _state(connection)
            gone = _gone(connection) if not done.remaining else []
            for start in range(0, len(gone), CHUNK):
                part = gone[start : start + CHUNK]
                costs, failures = _replace(connection, part, [], [])
                costs_changed, failures_changed = costs_changed or costs, failures_changed or failures
            done.removed = len(gone)
            values: dict[str, Any] = {}
            if costs_changed:
                values["costs_version"] = (state.costs_version if state else 0) + 1
            if failures_changed:
                values["failures_version"] = (state.failures_version if state else 0) + 1
            if not done.remaining:
                seen = [at for _, at in stale if at is not None]
                old = state.watermark if state is not None and state.fingerprint == mark else None
                newest = max([*seen, *([old] if old else [])], default=None)
                values.update(fingerprint=mark, watermark=newest, checked_at=read_at)
            if values or state is None:
                _save_state(connection, state, **values)
            state = _state(connection)
        done.costs_version = state.costs_version if state else 0
        done.failures_version = state.failures_version if state else 0
    return done


# -- reads --------------------------------------------------------------------------------------
def _summary(key: Any, row: Any) -> CostSummary:
    summary = CostSummary(key=key)
    for name in _PART_SUMS:
        value = getattr(row, name)
        setattr(summary, name, value if value is not None else 0)
    return summary


def _priced_total() -> Any:
    """SQL for a group's priced total, None when nothing in it is priced (as CostSummary)."""
    priced = func.sum(RunCostPart.reported_calls) + func.sum(RunCostPart.computed_calls)
    return case((priced > 0, func.sum(RunCostPart.reported_usd) + func.sum(RunCostPart.computed_usd)))


def costs_by(
    engine: Engine, by: str = "model", limit: int | None = None, run_ids: list[str] | None = None
) -> list[CostSummary]:
    """Like ``core.costs.costs_by`` (same figures, same order: highest cost first), from the
    rollup rows; ``limit`` keeps the first groups only (by run: the costliest runs)."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group costs by {by!r}; choose one of {', '.join(GROUPINGS)}")
    column = _GROUP_COLUMN[by]
    total = _priced_total()
    sums = [func.sum(getattr(RunCostPart, name)).label(name) for name in _PART_SUMS]
    query = (
        select(column.label("key"), *sums, total.label("cost"))
        .group_by(column)
        .order_by(func.coalesce(total, 0.0).desc(), func.sum(RunCostPart.calls).desc(), column)
    )
    if run_ids is not None:
        query = query.where(RunCostPart.run_id.in_(run_ids))
    if limit:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        summaries = {row.key: _summary(row.key, row) for row in rows}
        keys = list(summaries)
        narrow: list[Any] = []
        if limit or run_ids is not None:
            narrow = [column.in_(keys) if None not in keys else or_(column.in_(keys), column.is_(None))]
        unpriced = select(column, RunCostPart.model).where(RunCostPart.unpriced_calls > 0, *narrow).distinct()
        for key, model in connection.execute(unpriced):
            if key in summaries:
                summaries[key].unpriced_models.append(model or "(no model)")
        priced = select(column, RunCostPart.prices).where(RunCostPart.computed_calls > 0, *narrow).distinct()
        for key, prices in connection.execute(priced):
            if key in summaries:
                for name, text in (prices or {}).items():
                    summaries[key].prices.setdefault(name, text)
    for summary in summaries.values():
        summary.unpriced_models = sorted(set(summary.unpriced_models))
    return list(summaries.values())


def cost_totals(engine: Engine) -> CostSummary:
    """Every call's tokens and cost in one summary (the Costs page's metrics)."""
    sums = [func.sum(getattr(RunCostPart, name)).label(name) for name in _PART_SUMS]
    with engine.connect() as connection:
        row = connection.execute(select(*sums)).one()
        models = connection.execute(
            select(RunCostPart.model).where(RunCostPart.unpriced_calls > 0).distinct()
        ).scalars()
        summary = _summary(None, row)
        summary.unpriced_models = sorted({m or "(no model)" for m in models})
    return summary


def group_count(engine: Engine, by: str) -> int:
    column = _GROUP_COLUMN[by]
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(func.distinct(column)))).scalar_one())


def run_costs(engine: Engine, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """run id -> {cost_usd, cost_provenance, unpriced_calls, unpriced_tokens, failure_class,
    last_good_checkpoint} (what ``core.annotate`` adds to a run row), for runs with a row."""
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for start in range(0, len(run_ids), CHUNK):
            query = select(RunRollup).where(RunRollup.run_id.in_(run_ids[start : start + CHUNK]))
            for row in connection.execute(query):
                found[row.run_id] = {
                    "cost_usd": row.cost_usd,
                    "cost_provenance": row.cost_provenance,
                    "unpriced_calls": row.unpriced_calls,
                    "unpriced_tokens": row.unpriced_tokens,
                    "failure_class": row.failure_class,
                    "last_good_checkpoint": (row.failure or {}).get("last_good_checkpoint"),
                }
    return found


# -- failures -----------------------------------------------------------------------------------
def failure_classes(engine: Engine) -> dict[str, int]:
    """Failure class -> failed runs, biggest first."""
    query = (
        select(RunRollup.failure_class, func.count())
        .where(RunRollup.failure_class.is_not(None))
        .group_by(RunRollup.failure_class)
        .order_by(func.count().desc(), RunRollup.failure_class)
    )
    with engine.connect() as connection:
        return {k: int(n) for k, n in connection.execute(query)}


def failure_groups(
    engine: Engine, members: int = 20, classes: list[str] | None = None
) -> list[dict[str, Any]]:
    """Groups of failed runs by class and normalized reason, biggest first: count, a real
    example reason (the latest), the normalized form, and the ``members`` latest runs'
    FailureInfo dicts."""
    where = [RunRollup.failure_class.is_not(None)]
    if classes:
        where.append(RunRollup.failure_class.in_(classes))
    key = (RunRollup.failure_class, RunRollup.normalized_reason)
    counts = (
        select(*key, func.count().label("n"), func.max(RunRollup.failed_at).label("last"))
        .where(*where)
        .group_by(*key)
        .order_by(func.count().desc(), *key)
    )
    rank = (
        func.row_number()
        .over(partition_by=key, order_by=(RunRollup.failed_at.desc().nulls_last(), RunRollup.run_id))
        .label("rank")
    )
    ranked = select(*key, RunRollup.failure, rank).where(*where).subquery()
    latest = select(ranked.c.failure_class, ranked.c.normalized_reason, ranked.c.failure).where(
        ranked.c.rank <= members
    )
    with engine.connect() as connection:
        groups = {
            (row[0], row[1]): {
                "failure_class": row[0],
                "normalized_reason": row[1],
                "count": int(row.n),
                "last_failed_at": row.last,
                "runs": [],
            }
            for row in connection.execute(counts)
        }
        for klass, normalized, failure in connection.execute(latest):
            group = groups.get((klass, normalized))
            if group is not None:
                group["runs"].append(failure)
    for group in groups.values():
        group["runs"].sort(key=lambda f: (f.get("failed_at") or "", f["run_id"]), reverse=True)
        group["example_reason"] = next((f["reason"] for f in group["runs"] if f.get("reason")), None)
    return list(groups.values())


def failure_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(RunRollup).where(RunRollup.failure_class.is_not(None))
            ).scalar_one()
        )

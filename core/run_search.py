"""Filter, sort and page runs in the database, so the Runs page stays fast at 100k runs.

Every filter becomes a WHERE clause; sorting uses indexed columns where it can; a page is
LIMIT/OFFSET and the total is one COUNT over the same WHERE. Text search is a
case-insensitive substring match over the task, the failure reason, the run's ids and its
checkpoints' summaries (LIKE with escaping: ``%`` and ``_`` in the query are literal).

Cost sorting and filters use the run's priced cost (``run_rollup.cost_usd``: reported and
computed, see ``core.rollup``), or the cost the source reported for a run the rollup has not
reached yet; runs without a known cost never match a cost range (unknown is not $0) and sort
last. Each row carries its rollup's cost, provenance and failure class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from core.run_dicts import RUN_FIELDS, run_to_dict
from core.tables import Checkpoint, Run, RunRollup

COST = case((RunRollup.run_id.is_(None), Run.reported_cost_usd), else_=RunRollup.cost_usd)
ROLLUP_FIELDS = (
    COST.label("rollup_cost"),
    RunRollup.run_id.label("rollup_run"),
    RunRollup.cost_provenance,
    RunRollup.unpriced_calls,
    RunRollup.unpriced_tokens,
    RunRollup.failure_class,
    RunRollup.failure,
)

SORT_COLUMNS: dict[str, Any] = {
    "started_at": Run.started_at,
    "ended_at": Run.ended_at,
    "status": Run.status,
    "framework": Run.framework,
    "task": Run.task,
    "cost": COST,
    "input_tokens": Run.input_tokens,
    "output_tokens": Run.output_tokens,
    "checkpoints": Run.checkpoint_count,
    "events": Run.event_count,
}
MAX_PAGE_SIZE = 500


@dataclass(slots=True)
class RunFilter:
    statuses: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    agent: str | None = None  # substring of any agent id
    started_from: datetime | None = None
    started_to: datetime | None = None
    cost_min: float | None = None
    cost_max: float | None = None
    text: str | None = None
    failure_classes: tuple[str, ...] = ()  # of the rollup (core.rollup)

    def is_empty(self) -> bool:
        return not (
            self.failure_classes
            or self.statuses
            or self.frameworks
            or self.agent
            or self.started_from
            or self.started_to
            or self.cost_min is not None
            or self.cost_max is not None
            or (self.text or "").strip()
        )


@dataclass(slots=True)
class RunPage:
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    page: int = 0
    page_size: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _contains(column: Any, pattern: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive substring match: SQLite's LIKE already ignores ASCII case (and
    lower() would cost a function call per row); elsewhere ILIKE."""
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def conditions(flt: RunFilter, dialect: str = "sqlite") -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``flt`` (shared by the page query and its count)."""
    where: list[ColumnElement[bool]] = []
    if flt.statuses:
        where.append(Run.status.in_(flt.statuses))
    if flt.frameworks:
        where.append(Run.framework.in_(flt.frameworks))
    if flt.failure_classes:
        where.append(RunRollup.failure_class.in_(flt.failure_classes))
    if flt.agent and flt.agent.strip():
        # agents is a JSON list; its text form holds each id in double quotes on every database.
        where.append(_contains(cast(Run.agents, String), _like(flt.agent.strip()), dialect))
    if flt.started_from:
        where.append(Run.started_at >= flt.started_from)
    if flt.started_to:
        where.append(Run.started_at < flt.started_to)
    if flt.cost_min is not None:
        where.append(and_(COST.is_not(None), flt.cost_min <= COST))
    if flt.cost_max is not None:
        where.append(and_(COST.is_not(None), flt.cost_max >= COST))
    text = (flt.text or "").strip()
    if text:
        pattern = _like(text)
        in_summaries = select(Checkpoint.run_id).where(_contains(Checkpoint.summary, pattern, dialect))
        where.append(
            or_(
                _contains(Run.task, pattern, dialect),
                _contains(Run.failure_reason, pattern, dialect),
                _contains(Run.native_id, pattern, dialect),
                Run.id.startswith(text.lower(), autoescape=True),
                Run.id.in_(in_summaries),
            )
        )
    return where


def _from(flt: RunFilter, sort: str | None = None) -> Any:
    """The run table, joined to its rollup when the cost is filtered or sorted on."""
    if flt.cost_min is None and flt.cost_max is None and not flt.failure_classes and sort != "cost":
        return Run
    return Run.__table__.outerjoin(RunRollup, RunRollup.run_id == Run.id)


def count_runs(engine: Engine, flt: RunFilter | None = None) -> int:
    """How many runs match ``flt`` (the same WHERE as :func:`search_runs`)."""
    flt = flt or RunFilter()
    where = conditions(flt, engine.dialect.name)
    with engine.connect() as connection:
        query = select(func.count()).select_from(_from(flt)).where(*where)
        return int(connection.execute(query).scalar_one())


def _with_rollup(row: Any) -> dict[str, Any]:
    run = run_to_dict(row)
    if row.rollup_run is not None:
        failure = row.failure or {}
        run.update(
            cost_usd=row.rollup_cost,
            cost_provenance=row.cost_provenance,
            unpriced_calls=row.unpriced_calls,
            unpriced_tokens=row.unpriced_tokens,
            failure_class=row.failure_class,
            last_good_checkpoint=failure.get("last_good_checkpoint"),
            failure_agent=failure.get("agent"),
            failure_step=failure.get("step"),
            failure_tool=failure.get("tool"),
        )
    else:
        run.update(cost_provenance="reported" if run["cost_usd"] is not None else None, rollup=False)
    return run


def search_runs(
    engine: Engine,
    flt: RunFilter | None = None,
    sort: str = "started_at",
    descending: bool = True,
    page: int = 0,
    page_size: int = 50,
    total: int | None = None,
) -> RunPage:
    """One page of runs matching ``flt``, plus the number of all matches (``total``: that
    number when the caller already knows it, e.g. paging through one filter)."""
    flt = flt or RunFilter()
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    where = conditions(flt, engine.dialect.name)
    column = SORT_COLUMNS.get(sort, Run.started_at)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    with engine.connect() as connection:
        if total is None:
            total = connection.execute(
                select(func.count()).select_from(_from(flt)).where(*where)
            ).scalar_one()
        last_page = max(0, (total - 1) // page_size)
        page = max(0, min(int(page), last_page))
        query = (
            select(*[getattr(Run, f) for f in RUN_FIELDS], *ROLLUP_FIELDS)
            .select_from(Run.__table__.outerjoin(RunRollup, RunRollup.run_id == Run.id))
            .where(*where)
            .order_by(order, Run.id)
            .limit(page_size)
            .offset(page * page_size)
        )
        rows = [_with_rollup(row) for row in connection.execute(query)]
    return RunPage(rows=rows, total=total, page=page, page_size=page_size)


def latest_failed(engine: Engine, limit: int = 8) -> list[dict[str, Any]]:
    """The runs that failed last (by their rollup's ``failed_at``, newest first), as
    :func:`search_runs` rows. Read down the rollup's failed_at index, so it stops after
    ``limit`` rows instead of sorting every failed run (85 ms at 100k runs, on every new
    file); runs the rollup has not reached yet are not among them."""
    query = (
        select(*[getattr(Run, f) for f in RUN_FIELDS], *ROLLUP_FIELDS)
        .select_from(RunRollup.__table__.join(Run, Run.id == RunRollup.run_id))
        .where(RunRollup.failure_class.is_not(None))
        .order_by(RunRollup.failed_at.desc().nulls_last(), RunRollup.run_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_with_rollup(row) for row in connection.execute(query)]


def facets(engine: Engine) -> dict[str, Any]:
    """Values the filter widgets offer: frameworks and statuses present, the started_at range."""
    with engine.connect() as connection:
        frameworks = (
            connection.execute(select(Run.framework).distinct().order_by(Run.framework)).scalars().all()
        )
        statuses = connection.execute(select(Run.status).distinct().order_by(Run.status)).scalars().all()
        # Two statements: SQLite answers a lone min() or max() from the index, not both at once.
        first = connection.execute(select(func.min(Run.started_at))).scalar()
        last = connection.execute(select(func.max(Run.started_at))).scalar()
    return {
        "frameworks": list(frameworks),
        "statuses": list(statuses),
        "first_start": first,
        "last_start": last,
    }


def native_ids(engine: Engine, run_ids: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Baton run id -> the framework's own run id, for labels."""
    found: dict[str, str] = {}
    ids = list(run_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            found.update(
                dict(connection.execute(select(Run.id, Run.native_id).where(Run.id.in_(part))).all())
            )
    return found


def names(engine: Engine, run_ids: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Baton run id -> the run's short human name (``core.run_names``), for labels."""
    found: dict[str, str] = {}
    ids = list(run_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            query = select(*[getattr(Run, f) for f in RUN_FIELDS]).where(Run.id.in_(ids[start : start + 500]))
            found.update((row.id, run_to_dict(row)["name"]) for row in connection.execute(query))
    return found

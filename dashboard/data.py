"""The dashboard's one door to ``core``, and the only place caching lives.

* The engine is ``st.cache_resource``, keyed by the database URL, so two databases never
  share one (``dashboard.freshness``; the background watcher lives in ``dashboard.background``).
* Queries are ``st.cache_data`` with the *data version* in their key and no time limit:
  the version (number of source files and when one was last written) changes as soon as
  the ingester commits, so the next rerun misses the cache and shows the new data, and an
  unchanged database is never queried twice for one view. The router reads the version
  once per run (:func:`begin_run`); every query of that run uses it.
* Costs and failure classes are aggregated in SQL over ``core.rollup``'s per-run rows,
  brought up to date once per data version (only the runs that changed are recomputed),
  with the prices' fingerprint (``PriceBook.fingerprint``: the user file and ingested
  prices) in the key as well, so an edited prices file shows on the next rerun. The figures
  are ``core.costs``' and ``core.failures``' own, as ``baton runs`` and ``baton costs`` give them.
* Functions whose cost or failure analysis fails raise :class:`NotAvailable` (or leave a
  note), so a page can say so instead of crashing.

Pages call these functions and lay out what comes back; they never touch SQL or ``core``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import diff as core_diff
from core import lineage as core_lineage
from core import queries, rollup, run_search
from core import watched_folders as core_watched
from core.costs import run_costs
from core.errors import Ambiguous, NotFound
from core.failures import CLASSES, failed_runs
from core.prices import PriceBook, load_price_book
from core.store import Store
from dashboard import data_timeline, freshness, lineage_chart, rollup_refresh

TTL = None  # answers are keyed by the data version: they never go stale by age
RunFilter = run_search.RunFilter
SORT_COLUMNS = tuple(run_search.SORT_COLUMNS)


class NotAvailable(Exception):
    """A feature whose core analysis failed (prices, costs, failures); the message says which."""


# -- resources and freshness (dashboard.freshness) -----------------------------------------------
db_url, get_engine, begin_run, data_version = (
    freshness.db_url,
    freshness.get_engine,
    freshness.begin_run,
    freshness.data_version,
)
_engine, _key = freshness.engine, freshness.key


def clear_caches() -> None:
    """Forget every cached answer (tests and the benchmark measure cold reruns)."""
    st.cache_data.clear()
    rollup_refresh.forget()


# -- costs ------------------------------------------------------------------------------------
def _price_book(engine: Engine) -> PriceBook:
    return load_price_book(engine)


# -- overview ----------------------------------------------------------------------------------
def _rolled_up() -> tuple[tuple[str, Any], str, rollup.Refreshed | None]:
    """(key of this data version, prices fingerprint, what the rollup refresh found: None
    while a backlog is priced in the background, the figures then partial); NotAvailable
    when prices cannot be read or the rollup cannot be written."""
    key = _key()
    try:
        book = _price_book(_engine(key[0]))
        fingerprint = book.fingerprint()
        done = rollup_refresh.refresh(_engine(key[0]), key[0], key[1], fingerprint, book)
    except Exception as exc:
        raise NotAvailable(
            f"Costs and failure classes could not be computed: {exc.__class__.__name__}: {exc}"
        ) from exc
    return key, fingerprint, done


def pricing_note() -> str | None:
    """A line for pages while a backlog of runs is priced in the background, else None."""
    return rollup_refresh.pricing_note(db_url())


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _overview(key: tuple[str, Any], rolled_up: bool) -> dict[str, Any]:
    engine = _engine(key[0])
    statuses = queries.run_status_counts(engine)
    if rolled_up:  # down the rollup's failed_at index
        recent = run_search.latest_failed(engine, 8)
    else:  # a backlog still priced, or no rollup at all (a read-only database): sort them
        recent = run_search.search_runs(
            engine, RunFilter(statuses=("failed",)), sort="ended_at", page_size=8
        ).rows
    return {
        "statuses": statuses,
        "frameworks": queries.run_framework_counts(engine),
        "files": queries.file_outcome_counts(engine),
        "recent_failures": recent,
        "failed_total": statuses.get("failed", 0),
    }


def overview() -> dict[str, Any]:
    try:  # the recent failures carry their class from the rollup rows
        key, _, done = _rolled_up()
    except NotAvailable:
        key, done = _key(), None
    return _overview(key, done is not None)


# -- runs --------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _count(key: tuple[str, Any], flt: RunFilter) -> int:
    """Kept apart from the page: paging and sorting one filter count its matches once."""
    return run_search.count_runs(_engine(key[0]), flt)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _search(
    key: tuple[str, Any], flt: RunFilter, sort: str, descending: bool, page: int, page_size: int
) -> dict[str, Any]:
    result = run_search.search_runs(
        _engine(key[0]), flt, sort, descending, page, page_size, total=_count(key, flt)
    )
    return {
        "rows": result.rows,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "page_size": result.page_size,
    }


def search_runs(
    flt: RunFilter, sort: str = "started_at", descending: bool = True, page: int = 0, page_size: int = 50
) -> dict[str, Any]:
    """A page of runs: rows (with cost, provenance and failure class from the rollup), total,
    page, pages. Sorting and cost filters run in the database, on the priced cost too."""
    note = None
    try:
        key, _, _ = _rolled_up()
    except NotAvailable as exc:  # pricing or failure analysis failing: reported costs only
        key = _key()
        note = f"Computed costs are not available ({short_error(exc)}); showing reported costs only."
    result = dict(_search(key, flt, sort, descending, page, page_size))
    result["costs_note"] = note
    return result


def short_error(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return cause.__class__.__name__


@st.cache_data(ttl=30, max_entries=8, show_spinner=False)
def _facets(url: str) -> dict[str, Any]:
    return run_search.facets(_engine(url))


def facets() -> dict[str, Any]:
    """Frameworks and statuses present (for filter options; may lag new data by up to 30 s:
    three scans of the run table are not worth repeating on every commit)."""
    return _facets(db_url())


# -- one run -----------------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _run(key: tuple[str, Any], run_id: str) -> dict[str, Any] | None:
    engine = _engine(key[0])
    try:
        run = queries.get_run(engine, run_id)
    except NotFound:
        return None
    run["failure"] = None
    run["notes"] = []
    if run["status"] == "failed":
        try:
            (info,) = failed_runs(engine, [run_id]) or (None,)  # the Failures page's own analysis
            run["failure"] = info.to_dict() if info else None
        except Exception as exc:
            run["notes"].append(f"Failure analysis is not available ({exc.__class__.__name__}: {exc}).")
    return run


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _run_cost(key: tuple[str, Any], prices: str, run_id: str) -> dict[str, Any] | None:
    """The run's cost summary (``CostSummary.to_dict``) from its rollup rows; None for a run
    without model calls."""
    (cost,) = rollup.costs_by(_engine(key[0]), "run", run_ids=[run_id]) or (None,)
    return cost.to_dict() if cost is not None else None


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _run_cost_priced(
    key: tuple[str, Any], prices: str, run_id: str, _book: PriceBook
) -> dict[str, Any] | None:
    cost = run_costs(_engine(key[0]), [run_id], _book).get(run_id)
    return cost.to_dict() if cost is not None else None


def run(run_id: str) -> dict[str, Any] | None:
    """The run with ``cost`` (summary dict or None) and ``failure`` (FailureInfo dict or None)."""
    key = _key()
    found = _run(key, run_id)
    if found is None:
        return None
    found = dict(found)
    found["cost"] = None
    try:
        key, fingerprint, done = _rolled_up()
        if done is None:  # its rollup rows may not be there yet
            raise NotAvailable("a backlog is being priced")
        found["cost"] = _run_cost(key, fingerprint, run_id)
    except NotAvailable:  # the rollup cannot be written (a read-only database): price it here
        try:
            book = _price_book(_engine(key[0]))
            found["cost"] = _run_cost_priced(key, book.fingerprint(), run_id, book)
        except Exception as exc:
            found["notes"] = [f"Cost is not available ({exc.__class__.__name__}: {exc}).", *found["notes"]]
    return found


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _run_names(key: tuple[str, Any], run_ids: tuple[str, ...]) -> dict[str, str]:
    return run_search.names(_engine(key[0]), run_ids)


def run_names(run_ids: tuple[str, ...]) -> dict[str, str]:
    """Baton run id -> the run's short human name (``core.run_names``)."""
    return _run_names(_key(), run_ids)


def find_run(ref: str) -> tuple[str | None, str | None]:
    """(run id, None), or (None, what is wrong: no such run, or an ambiguous prefix and the
    runs it matches)."""
    try:
        return queries.resolve_run_id(get_engine(), ref), None
    except NotFound:
        return None, None
    except Ambiguous as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"Could not look the run up: {exc.__class__.__name__}: {exc}"


def resolve_run(ref: str) -> str | None:
    try:
        return queries.resolve_run_id(get_engine(), ref)
    except Exception:
        return None


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _checkpoints(key: tuple[str, Any], run_id: str) -> list[dict[str, Any]]:
    return queries.run_checkpoints_light(_engine(key[0]), run_id)


def checkpoints(run_id: str) -> list[dict[str, Any]]:
    """The run's checkpoints (normalized fields, no documents), oldest first."""
    return _checkpoints(_key(), run_id)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _checkpoint(key: tuple[str, Any], checkpoint_id: str) -> dict[str, Any] | None:
    try:
        return queries.get_checkpoint(_engine(key[0]), checkpoint_id)
    except NotFound:
        return None


def checkpoint(checkpoint_id: str) -> dict[str, Any] | None:
    """One checkpoint with its original document and source path."""
    return _checkpoint(_key(), checkpoint_id)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _lineage(
    key: tuple[str, Any], run_id: str, selected: str | None, expand: bool, expanded: tuple[str, ...]
) -> dict[str, Any]:
    cps = _checkpoints(key, run_id)
    model = core_lineage.build(
        cps,
        selected,
        collapse_min=10**9 if expand else core_lineage.COLLAPSE_MIN,
        expanded=frozenset(expanded),
    )
    return {
        "dot": core_lineage.to_dot(model, selected),
        "chart": lineage_chart.option(model, selected),
        "node_checkpoints": [n.checkpoint_ids for n in model.nodes],
        "node_collapsed": [n.collapsed for n in model.nodes],
        "nodes": len(model.nodes),
        "checkpoints": len(cps),
        "collapsed": sum(1 for n in model.nodes if n.collapsed),
        "roots": len(model.roots),
        "forks": len(model.forks),
        "restarts": len(model.restarts),
        "handoffs": [{"from": h[2], "to": h[3], "checkpoint": h[1]} for h in model.handoffs],
        "missing_parents": len(model.missing_parents),
    }


def lineage(
    run_id: str, selected: str | None = None, expand: bool = False, expanded: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The lineage graph (ECharts option and DOT) plus its counts; ``expand`` shows every
    checkpoint, ``expanded`` names checkpoints of stretches the user opened. Node ``i`` of
    the chart holds ``node_checkpoints[i]``."""
    return _lineage(_key(), run_id, selected, expand, tuple(sorted(expanded)))


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _diff(key: tuple[str, Any], old_id: str, new_id: str) -> list[dict[str, Any]]:
    engine = _engine(key[0])
    old = queries.get_checkpoint(engine, old_id)
    new = queries.get_checkpoint(engine, new_id)
    return [c.as_dict() for c in core_diff.diff_documents(old["document"], new["document"])]


def diff(old_id: str, new_id: str) -> list[dict[str, Any]]:
    """Field-level changes from checkpoint ``old_id``'s document to ``new_id``'s."""
    return _diff(_key(), old_id, new_id)


events, event_data = data_timeline.events, data_timeline.event_data  # the Run page's Timeline


# -- costs and failures ------------------------------------------------------------------------
COST_GROUP_LIMIT = 500  # groups shown (by run: the costliest runs)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _costs(key: tuple[str, Any], prices: str, by: str) -> dict[str, Any]:
    engine = _engine(key[0])
    try:
        rows = [s.to_dict() for s in rollup.costs_by(engine, by, limit=COST_GROUP_LIMIT)]
        totals = rollup.cost_totals(engine).to_dict()
        groups = len(rows) if len(rows) < COST_GROUP_LIMIT else rollup.group_count(engine, by)
    except Exception as exc:
        raise NotAvailable(f"Costs could not be computed: {exc.__class__.__name__}: {exc}") from exc
    return {"rows": rows, "totals": totals, "groups": groups}


def costs(by: str) -> dict[str, Any]:
    """Cost summaries grouped by run, agent, model, framework or day, highest first (at most
    COST_GROUP_LIMIT), ``totals`` over every call and the number of ``groups``
    (NotAvailable when the prices cannot be read or the costs cannot be computed)."""
    key, fingerprint, done = _rolled_up()
    if done is not None:  # keyed by what changes the costs: unrelated new files reuse the answer
        key = (key[0], ("costs", done.costs_version))
    return _costs(key, fingerprint, by)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _failures(key: tuple[str, Any], prices: str, classes: tuple[str, ...], members: int) -> dict[str, Any]:
    engine = _engine(key[0])
    try:
        return {
            "classes": rollup.failure_classes(engine),
            "groups": rollup.failure_groups(engine, members, list(classes) or None),
        }
    except Exception as exc:
        raise NotAvailable(f"Failure analysis failed: {exc.__class__.__name__}: {exc}") from exc


def failures(classes: tuple[str, ...] = (), members: int = 20) -> dict[str, Any]:
    """``classes``: failure class -> failed runs; ``groups``: failed runs by class and
    normalized reason, biggest first, each with its count, a real example reason and its
    ``members`` latest runs' FailureInfo dicts (only of ``classes`` when given)."""
    key, fingerprint, done = _rolled_up()
    if done is not None:
        key = (key[0], ("failures", done.failures_version))
    return _failures(key, fingerprint, tuple(sorted(classes)), members)


def failure_classes() -> dict[str, str]:
    return dict(CLASSES)


# -- ingest ------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _files(key: tuple[str, Any], outcome: str) -> list[dict[str, Any]]:
    return queries.source_files(_engine(key[0]), outcome)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _file_counts(key: tuple[str, Any]) -> dict[str, int]:
    return queries.file_outcome_counts(_engine(key[0]))


def file_counts() -> dict[str, int]:
    """Source files by outcome (loaded, ignored, failed, deleted)."""
    return _file_counts(_key())


def files(outcome: str) -> list[dict[str, Any]]:
    """Source files with this outcome (failed, ignored, loaded, deleted) and their reasons."""
    return _files(_key(), outcome)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _bad_lines(key: tuple[str, Any]) -> list[dict[str, Any]]:
    return [f for f in queries.failed_files(_engine(key[0])) if f["outcome"] == "loaded"]


def bad_lines() -> list[dict[str, Any]]:
    """Lines skipped in files that loaded (path, line, error): the first 100 of each file."""
    return _bad_lines(_key())


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _warnings(key: tuple[str, Any]) -> list[dict[str, Any]]:
    return queries.file_warnings(_engine(key[0]))


def warnings() -> list[dict[str, Any]]:
    """Warnings of files that loaded (path, line, error): a field not stored, say."""
    return _warnings(_key())


def add_folder(path_text: str) -> dict[str, Any]:
    """Load a folder now and watch it from then on (kept in the database: it survives a
    restart; ``remove_folder`` stops it). Returns the load's summary."""
    from ingest.loader import ingest_paths

    path = Path(path_text.strip()).expanduser()
    if not path_text.strip():
        raise NotFound("Type a folder path first.")
    if not path.exists():
        raise NotFound(f"{path} does not exist.")
    path = path.resolve()
    summary = ingest_paths([path], Store(get_engine()))
    added = core_watched.add_folder(get_engine(), str(path))
    _folders_changed[0] += 1
    if get_script_run_ctx(suppress_warning=True) is not None:
        begin_run()  # the rest of this run shows what was just loaded
    return summary.as_dict() | {"path": str(path), "failures": summary.failures[:20], "added": added}


_folders_changed = [0]  # add/remove in this process: the folder list's cache key


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _watched(url: str, changed: int) -> list[str]:
    return core_watched.list_folders(_engine(url))


def watched_folders() -> list[str]:
    """The folders added on the Ingest page (watched until removed)."""
    return _watched(db_url(), _folders_changed[0])


def remove_folder(path: str) -> bool:
    """Stop watching a folder added on the Ingest page (what it loaded stays)."""
    removed = core_watched.remove_folder(get_engine(), path)
    _folders_changed[0] += 1
    return removed


# -- resume exports ----------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _resume_source(key: tuple[str, Any], checkpoint_id: str, with_events: bool) -> Any:
    from core.resume.load import load_source

    return load_source(_engine(key[0]), checkpoint_id, with_events=with_events)


def resume_source(checkpoint_id: str, with_events: bool = False) -> Any:
    """The checkpoint an export starts from (``core.resume.source.ResumeSource``, with the
    run's failure analysis, and its events for the handoff brief); raises ``UserError`` when
    it cannot be exported. Cached: every choice in the resume panel reruns the page."""
    return _resume_source(_key(), checkpoint_id, with_events)


def record_export(source: Any, result: Any, options: Any, destination: str) -> None:
    """Add an export (a download or a written file) to the export log."""
    from core.resume.export_log import record_export as record

    record(get_engine(), source, result, options, destination)


def exports(run_id: str) -> list[dict[str, Any]]:
    """The run's past exports, newest first. Not cached: writing an export does not change
    the data version, and the list must show it at once."""
    return queries.list_exports(get_engine(), run_id=run_id)

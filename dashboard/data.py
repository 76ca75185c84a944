"""The dashboard's one door to ``core``, and the only place caching lives.

* The engine is ``st.cache_resource``, keyed by the database URL, so two databases never
  share one (the background watcher lives in ``dashboard.background``).
* Queries are ``st.cache_data`` with a short TTL and the *data version* in their key: the
  version (number of source files and when one was last written) changes as soon as the
  ingester commits, so the next rerun misses the cache and shows the new data. The router
  reads the version once per run (:func:`begin_run`); every query of that run uses it.
* Costs are cached the same way, with the prices' fingerprint (``PriceBook.fingerprint``:
  the user file and ingested prices) in the key as well, so an edited prices file shows on
  the next rerun. A page of runs gets its costs, provenance and failure class from
  ``core.annotate.annotate_runs``, like ``baton runs``.
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
from core import queries, run_search, timeline
from core.annotate import annotate_runs
from core.costs import costs_by, event_costs, run_costs
from core.db import default_url, make_engine
from core.errors import NotFound
from core.failures import CLASSES, failed_runs
from core.prices import PriceBook, load_price_book
from core.store import Store

TTL = 2  # seconds: the most a cached answer may lag behind the database
RunFilter = run_search.RunFilter
SORT_COLUMNS = tuple(run_search.SORT_COLUMNS)


class NotAvailable(Exception):
    """A feature whose core analysis failed (prices, costs, failures); the message says which."""


# -- resources ---------------------------------------------------------------------------------
def db_url() -> str:
    return default_url()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """The engine of ``url``, by default BATON_DB_URL (or ~/.baton/baton.db); also used by
    the background watcher."""
    return _engine(url or db_url())


# -- freshness ---------------------------------------------------------------------------------
_RUN_VERSION = "_baton_run_data_version"


def _read_version() -> tuple[int, str]:
    return queries.data_version(get_engine())


def begin_run() -> None:
    """Read the data version once for this run of the page (the router calls this first in
    every full run): the run's queries are all keyed by it, and it is one query, not one
    per cached call."""
    st.session_state[_RUN_VERSION] = (db_url(), _read_version())


def data_version() -> tuple[int, str]:
    """Changes whenever the ingester commits anything (every write touches source_file).

    Within a full run started by the router: the version read at its start. Anywhere else
    (a fragment's timer tick, a script without the router, no Streamlit at all): read now.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None and not ctx.fragment_ids_this_run:
        noted = st.session_state.get(_RUN_VERSION)
        if noted is not None and noted[0] == db_url():
            return noted[1]
    return _read_version()


def _key() -> tuple[str, tuple[int, str]]:
    return db_url(), data_version()


def clear_caches() -> None:
    """Forget every cached answer (tests and the benchmark measure cold reruns)."""
    st.cache_data.clear()


# -- costs ------------------------------------------------------------------------------------
def _price_book(engine: Engine) -> PriceBook:
    return load_price_book(engine)


def _reported_only(rows: list[dict[str, Any]]) -> None:
    """Cost provenance before (or without) pricing, the one rule for every page: a cost the
    source reported is "reported", a reported $0 included; no reported cost has none."""
    for row in rows:
        row["cost_provenance"] = "reported" if row["cost_usd"] is not None else None


# -- overview ----------------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _overview(key: tuple[str, Any]) -> dict[str, Any]:
    engine = _engine(key[0])
    page = run_search.search_runs(engine, RunFilter(statuses=("failed",)), sort="ended_at", page_size=8)
    return {
        "statuses": queries.run_status_counts(engine),
        "frameworks": queries.run_framework_counts(engine),
        "files": queries.file_outcome_counts(engine),
        "recent_failures": page.rows,
        "failed_total": page.total,
    }


def overview() -> dict[str, Any]:
    return _overview(_key())


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


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def _annotated_search(
    key: tuple[str, Any],
    prices: str,
    flt: RunFilter,
    sort: str,
    descending: bool,
    page: int,
    page_size: int,
    _book: PriceBook,
) -> dict[str, Any]:
    """The page with each row's cost, provenance and failure class, as ``baton runs`` gives
    them; ``prices`` (the book's fingerprint) is in the key so an edited prices file shows
    on the next rerun."""
    result = _search(key, flt, sort, descending, page, page_size)
    annotate_runs(_engine(key[0]), result["rows"], _book)
    return result


def search_runs(
    flt: RunFilter, sort: str = "started_at", descending: bool = True, page: int = 0, page_size: int = 50
) -> dict[str, Any]:
    """A page of runs: rows (with cost, provenance and failure class), total, page, pages."""
    key = _key()
    result = _search(key, flt, sort, descending, page, page_size)
    try:
        book = _price_book(_engine(key[0]))
        result = _annotated_search(key, book.fingerprint(), flt, sort, descending, page, page_size, book)
        result["costs_note"] = None
    except Exception as exc:  # pricing or failure analysis failing: reported costs only
        result["costs_note"] = (
            f"Computed costs are not available ({exc.__class__.__name__}); showing reported costs only."
        )
        _reported_only(result["rows"])
    return result


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
def _run_cost(key: tuple[str, Any], prices: str, run_id: str, _book: PriceBook) -> dict[str, Any] | None:
    """The run's cost summary (``CostSummary.to_dict``); None for a run without model calls."""
    cost = run_costs(_engine(key[0]), [run_id], _book).get(run_id)
    return cost.to_dict() if cost is not None else None


def run(run_id: str) -> dict[str, Any] | None:
    """The run with ``cost`` (summary dict or None) and ``failure`` (FailureInfo dict or None)."""
    key = _key()
    found = _run(key, run_id)
    if found is None:
        return None
    found["cost"] = None
    try:
        book = _price_book(_engine(key[0]))
        found["cost"] = _run_cost(key, book.fingerprint(), run_id, book)
    except Exception as exc:
        found["notes"] = [f"Cost is not available ({exc.__class__.__name__}: {exc}).", *found["notes"]]
    return found


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _run_names(key: tuple[str, Any], run_ids: tuple[str, ...]) -> dict[str, str]:
    return run_search.native_ids(_engine(key[0]), run_ids)


def run_names(run_ids: tuple[str, ...]) -> dict[str, str]:
    """Baton run id -> the framework's own id."""
    return _run_names(_key(), run_ids)


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
def _lineage(key: tuple[str, Any], run_id: str, selected: str | None, expand: bool) -> dict[str, Any]:
    cps = _checkpoints(key, run_id)
    model = core_lineage.build(cps, selected, collapse_min=10**9 if expand else core_lineage.COLLAPSE_MIN)
    return {
        "dot": core_lineage.to_dot(model, selected),
        "nodes": len(model.nodes),
        "checkpoints": len(cps),
        "collapsed": sum(1 for n in model.nodes if n.collapsed),
        "roots": len(model.roots),
        "forks": len(model.forks),
        "restarts": len(model.restarts),
        "handoffs": [{"from": h[2], "to": h[3], "checkpoint": h[1]} for h in model.handoffs],
        "missing_parents": len(model.missing_parents),
    }


def lineage(run_id: str, selected: str | None = None, expand: bool = False) -> dict[str, Any]:
    """The lineage graph as DOT plus its counts (``expand`` shows every checkpoint)."""
    return _lineage(_key(), run_id, selected, expand)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _diff(key: tuple[str, Any], old_id: str, new_id: str) -> list[dict[str, Any]]:
    engine = _engine(key[0])
    old = queries.get_checkpoint(engine, old_id)
    new = queries.get_checkpoint(engine, new_id)
    return [c.as_dict() for c in core_diff.diff_documents(old["document"], new["document"])]


def diff(old_id: str, new_id: str) -> list[dict[str, Any]]:
    """Field-level changes from checkpoint ``old_id``'s document to ``new_id``'s."""
    return _diff(_key(), old_id, new_id)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _timeline_order(key: tuple[str, Any], run_id: str) -> timeline.Order:
    """The run's whole nested order (light): paging and filtering reuse it."""
    return timeline.run_order(_engine(key[0]), run_id)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def _timeline(
    key: tuple[str, Any],
    prices: str | None,
    run_id: str,
    kinds: tuple[str, ...],
    errors_only: bool,
    offset: int,
    limit: int,
    _book: PriceBook | None,
) -> dict[str, Any]:
    engine = _engine(key[0])
    result = timeline.order_page(engine, _timeline_order(key, run_id), kinds, errors_only, offset, limit)
    note = _price_events(engine, run_id, result.rows, _book)
    return {
        "rows": result.rows,
        "total": result.total,
        "kinds": result.kinds,
        "errors": result.errors,
        "cost_note": note,
    }


def _price_events(
    engine: Engine, run_id: str, rows: list[dict[str, Any]], book: PriceBook | None
) -> str | None:
    """Give model calls on the page their cost and provenance (reported, computed, unpriced),
    priced by core.costs like the run's totals."""
    _reported_only(rows)
    if book is None:
        return "Computed costs per call are not available; reported costs only."
    calls = [row["id"] for row in rows if row["kind"] in ("llm_call", "usage")]
    if not calls:
        return None
    try:
        priced = event_costs(engine, run_id, calls, book)
    except Exception as exc:  # pricing failing: reported costs only
        return f"Computed costs per call are not available ({exc.__class__.__name__}); reported costs only."
    for row in rows:
        cost = priced.get(row["id"])
        if cost is not None:
            row["cost_usd"], row["cost_provenance"] = cost.cost_usd, cost.provenance
    return None


def events(
    run_id: str, kinds: tuple[str, ...] = (), errors_only: bool = False, offset: int = 0, limit: int = 200
) -> dict[str, Any]:
    """A page of the run's nested event timeline (model calls with their cost)."""
    key = _key()
    try:
        book = _price_book(_engine(key[0]))
    except Exception:  # prices failing to load: the page still lists the events
        book = None
    fingerprint = book.fingerprint() if book is not None else None
    return _timeline(key, fingerprint, run_id, kinds, errors_only, offset, limit, book)


def event_data(event_id: str) -> Any:
    return timeline.event_data(get_engine(), event_id)


# -- costs and failures ------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _costs(key: tuple[str, Any], prices: str, by: str, _book: PriceBook) -> list[dict[str, Any]]:
    try:
        return [s.to_dict() for s in costs_by(_engine(key[0]), by, _book)]
    except Exception as exc:
        raise NotAvailable(f"Costs could not be computed: {exc.__class__.__name__}: {exc}") from exc


def costs(by: str) -> list[dict[str, Any]]:
    """Cost summaries grouped by run, agent, model, framework or day (NotAvailable when the
    prices cannot be read or the costs cannot be computed)."""
    key = _key()
    try:
        book = _price_book(_engine(key[0]))
    except Exception as exc:
        raise NotAvailable(f"Prices could not be read: {exc.__class__.__name__}: {exc}") from exc
    return _costs(key, book.fingerprint(), by, book)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _failures(key: tuple[str, Any]) -> list[dict[str, Any]]:
    try:
        infos = failed_runs(_engine(key[0]))
    except Exception as exc:
        raise NotAvailable(f"Failure analysis failed: {exc.__class__.__name__}: {exc}") from exc
    return [info.to_dict() for info in infos]


def failures() -> list[dict[str, Any]]:
    """Every failed run's FailureInfo as a dict (class, reason, normalized reason, last good)."""
    return _failures(_key())


def failure_classes() -> dict[str, str]:
    return dict(CLASSES)


# -- ingest ------------------------------------------------------------------------------------
@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _files(key: tuple[str, Any], outcome: str) -> list[dict[str, Any]]:
    return queries.source_files(_engine(key[0]), outcome)


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
    """Ingest a folder now (the running watcher keeps its own folders). Returns the summary."""
    from ingest.loader import ingest_paths

    path = Path(path_text.strip()).expanduser()
    if not path_text.strip():
        raise NotFound("Type a folder path first.")
    if not path.exists():
        raise NotFound(f"{path} does not exist.")
    summary = ingest_paths([path], Store(get_engine()))
    if get_script_run_ctx(suppress_warning=True) is not None:
        begin_run()  # the rest of this run shows what was just loaded
    return summary.as_dict() | {"path": str(path), "failures": summary.failures[:20]}


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

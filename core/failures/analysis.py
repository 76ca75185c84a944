"""Per failed run: class, reason, where it failed, and the last good checkpoint; groups.

``analyze_run`` is pure (plain dicts in, ``FailureInfo`` out); ``failed_runs`` and
``failure_groups`` read the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection, Engine

from core.failures.normalize import normalize_reason
from core.failures.rules import agent_in, classify, step_in, tool_in
from core.frameworks.registry import lookup
from core.run_dicts import RUN_FIELDS, run_to_dict
from core.tables import Checkpoint, Event, Run
from core.timeutil import parse_timestamp

FAILED_STATUSES = ("failed",)
GROUP_BY = ("class", "reason", "agent", "tool")


@dataclass(slots=True)
class FailureInfo:
    run_id: str
    framework: str
    native_id: str
    failure_class: str
    rule: str
    reason: str | None  # the original text, untouched
    normalized_reason: str | None
    agent: str | None = None
    step: str | None = None
    tool: str | None = None
    failed_at: datetime | None = None
    last_good_checkpoint: str | None = None  # Baton checkpoint id
    last_good_checkpoint_native: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed_at"] = self.failed_at.isoformat() if self.failed_at else None
        return data


def usable_for_resume(framework: str, checkpoint: dict[str, Any]) -> bool:
    """Whether a checkpoint's saved state can be resumed from (by its framework or through
    a resume export): not itself failed, and holding what a resume needs (the framework's
    own rule, in its module in ``core.frameworks``)."""
    if checkpoint.get("status") == "failed":
        return False
    return lookup(framework).usable_for_resume(checkpoint)


def _sort_key(item: dict[str, Any]) -> tuple[float, str]:
    at = parse_timestamp(item.get("created_at") if "created_at" in item else item.get("at"))
    return (at.timestamp() if at else float("-inf"), str(item.get("id") or ""))


def oldest_first(checkpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checkpoints in time order; without times (versions of an overwritten harness file),
    by depth along parent links, then by step."""
    by_id = {cp["id"]: cp for cp in checkpoints}
    depths: dict[str, int] = {}

    def depth(cp: dict[str, Any]) -> int:
        # Walk up to a checkpoint of known depth, a root or a cycle, then fill in the path:
        # each checkpoint is visited once (a 3,000-version chain: 3,000 steps, not 4.5M).
        path: list[str] = []
        on_path: set[str] = set()
        node = cp
        while True:
            if node["id"] in depths:
                base = depths[node["id"]]
                break
            if node["id"] in on_path:  # a parent cycle in the source: count from here
                base = 0
                break
            path.append(node["id"])
            on_path.add(node["id"])
            parent = node.get("parent_id")
            if parent not in by_id:  # a root: depth 0
                base = -1
                break
            node = by_id[parent]
        for offset, cp_id in enumerate(reversed(path), start=1):
            depths[cp_id] = base + offset
        return depths[cp["id"]]

    def key(cp: dict[str, Any]) -> tuple[float, int, int, str]:
        step = cp.get("step")
        return (_sort_key(cp)[0], depth(cp), step if isinstance(step, int) else -1, str(cp.get("id")))

    return sorted(checkpoints, key=key)


def last_usable_before_failure(
    framework: str,
    checkpoints: list[dict[str, Any]],
    failing: dict[str, Any] | None,
    failed_at: datetime | None,
) -> dict[str, Any] | None:
    """The newest checkpoint before the failure whose state is usable for a resume.

    With a failing checkpoint that has parents (ACF forks, restarts), its own ancestry is
    searched first, so the answer lies on the failed branch. (``lineage.newest_not_failed``
    goes by status alone.)"""
    by_id = {cp["id"]: cp for cp in checkpoints}
    if failing is not None:
        seen: set[str] = set()
        current = by_id.get(failing.get("parent_id") or "")
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            if usable_for_resume(framework, current):
                return current
            current = by_id.get(current.get("parent_id") or "")
        if failing.get("parent_id"):
            return None
    for cp in reversed(oldest_first(checkpoints)):
        created = parse_timestamp(cp.get("created_at"))
        if failed_at is not None and created is not None and created > failed_at:
            continue
        if usable_for_resume(framework, cp):
            return cp
    return None


def _other_texts(run: dict[str, Any], errors: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    texts: list[tuple[str, str | None]] = []
    for step in reversed(run.get("failure_signals", {}).get("failed_steps") or []):
        if isinstance(step, dict):
            texts.append((f"step {step.get('step_name')}", step.get("error")))
    task_errors = run.get("failure_signals", {}).get("task_errors")
    if isinstance(task_errors, dict):  # harness orchestrations: task id -> error text
        texts.extend((f"task {task}", error) for task, error in task_errors.items() if isinstance(error, str))
    for event in reversed(errors):
        texts.append((f"event {event.get('name')}", event.get("error")))
    return texts


def analyze_run(
    run: dict[str, Any], checkpoints: list[dict[str, Any]], events: list[dict[str, Any]]
) -> FailureInfo | None:
    """Classify one run (a ``run_dicts.run_to_dict`` dict) from its checkpoints (with
    ``document``) and its error events; None unless the run failed."""
    if run.get("status") not in FAILED_STATUSES:
        return None
    framework = run["framework"]
    signals = run.get("failure_signals") or {}
    errors = sorted((e for e in events if e.get("error") or e.get("kind") == "error"), key=_sort_key)
    failed_cps = [cp for cp in oldest_first(checkpoints) if cp.get("status") == "failed"]
    failing = failed_cps[-1] if failed_cps else None
    reason = run.get("failure_reason") or (failing or {}).get("failure_reason")
    if not reason and errors:
        reason = errors[-1].get("error")
    verdict = classify(framework, signals, reason, _other_texts(run, errors))
    agents = run.get("agents") or []
    fallback_agent = agents[0] if len(agents) == 1 else None
    if verdict.failure_class == "interrupted" and not run.get("failure_reason"):
        # Killed or crashed: earlier errors (say, a skipped task's) did not end the run, so
        # they neither name the failure nor bound the last good checkpoint.
        reason, errors, failing = None, [], None
        newest = (oldest_first(checkpoints) or [{}])[-1]
        fallback_agent = newest.get("agent_id") or fallback_agent
    decisive = verdict.text or reason

    failed_steps = [s for s in signals.get("failed_steps") or [] if isinstance(s, dict)]
    step_from_signals = next(
        (
            s.get("step_name")
            for s in reversed(failed_steps)
            if verdict.text is None or s.get("error") == verdict.text
        ),
        None,
    )
    last_error = errors[-1] if errors else {}
    step = (
        step_in(reason)
        or step_from_signals
        or last_error.get("step")
        or ((failing or {}).get("remaining_steps") or [None])[0]
    )
    if step is None and isinstance(signals.get("step"), int) and not isinstance(signals.get("step"), bool):
        step = f"step {signals['step']}"  # harness: the ReAct step the run was at
    step_errors = [e for e in errors if step and e.get("step") == step]
    tool = tool_in(decisive) or tool_in(reason)
    if tool is None and verdict.failure_class == "tool_error":
        tool = next((e.get("tool") for e in reversed(errors) if e.get("tool")), None)
    agent = next((e.get("agent_id") for e in reversed(step_errors) if e.get("agent_id")), None)
    agent = agent_in(reason) or agent or last_error.get("agent_id") or (failing or {}).get("agent_id")
    agent = agent or fallback_agent

    failed_at = (
        parse_timestamp(last_error.get("at"))
        or parse_timestamp((failing or {}).get("created_at"))
        or parse_timestamp(run.get("ended_at"))
    )
    good = last_usable_before_failure(framework, checkpoints, failing, failed_at)
    return FailureInfo(
        run_id=run["id"],
        framework=framework,
        native_id=run["native_id"],
        failure_class=verdict.failure_class,
        rule=verdict.rule,
        reason=reason,
        normalized_reason=normalize_reason(decisive),
        agent=agent,
        step=str(step) if step is not None else None,
        tool=tool,
        failed_at=failed_at,
        last_good_checkpoint=good["id"] if good else None,
        last_good_checkpoint_native=good.get("native_id") if good else None,
        signals=dict(signals),
    )


# -- database ---------------------------------------------------------------------------------
def error_events(connection: Connection, run_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Per run, its error events and the events that carry an error, in no set order."""
    query = select(
        Event.id,
        Event.run_id,
        Event.kind,
        Event.name,
        Event.at,
        Event.agent_id,
        Event.step,
        Event.tool,
        Event.error,
    ).where(Event.run_id.in_(list(run_ids)), or_(Event.kind == "error", Event.error.is_not(None)))
    found: dict[str, list[dict[str, Any]]] = {}
    for row in connection.execute(query):
        found.setdefault(row.run_id, []).append(dict(row._mapping))
    return found


def failed_runs(engine: Engine, run_ids: Iterable[str] | None = None) -> list[FailureInfo]:
    """FailureInfo of every failed run (or of the failed ones among ``run_ids``), newest first."""
    query = select(*[getattr(Run, f) for f in RUN_FIELDS])
    with engine.connect() as connection:
        if run_ids is None:
            runs = [run_to_dict(r) for r in connection.execute(query.where(Run.status.in_(FAILED_STATUSES)))]
        else:
            # A page of 50 runs must not read every failed run: select by id only (the primary
            # key) and keep the failed ones here. With the status in the WHERE clause too, SQLite
            # walks the status index over every failed run (17-90 ms at 100k runs, 0.2 ms so).
            wanted = sorted(set(run_ids))
            runs = [
                run_to_dict(r)
                for start in range(0, len(wanted), 500)
                for r in connection.execute(query.where(Run.id.in_(wanted[start : start + 500])))
                if r.status in FAILED_STATUSES
            ]
        ids = [r["id"] for r in runs]
        checkpoints: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        events: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            for row in connection.execute(
                select(
                    Checkpoint.id,
                    Checkpoint.run_id,
                    Checkpoint.native_id,
                    Checkpoint.parent_id,
                    Checkpoint.agent_id,
                    Checkpoint.status,
                    Checkpoint.created_at,
                    Checkpoint.remaining_steps,
                    Checkpoint.failure_reason,
                    Checkpoint.document,
                ).where(Checkpoint.run_id.in_(part))
            ):
                checkpoints[row.run_id].append(dict(row._mapping))
            for run_id, rows in error_events(connection, part).items():
                events[run_id].extend(rows)
    infos = [analyze_run(run, checkpoints[run["id"]], events[run["id"]]) for run in runs]
    found = [info for info in infos if info is not None]
    return sorted(
        found, key=lambda i: (i.failed_at.timestamp() if i.failed_at else 0.0, i.run_id), reverse=True
    )


def group_failures(
    infos: Iterable[FailureInfo], by: str = "reason", examples: int = 3
) -> list[dict[str, Any]]:
    """Groups of failures by ``class``, ``reason`` (class + normalized reason), ``agent`` or
    ``tool``; biggest first, each with its count and a few example runs."""
    if by not in GROUP_BY:
        raise ValueError(f"cannot group failures by {by!r}; choose one of {', '.join(GROUP_BY)}")
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for info in infos:
        key = {
            "class": (info.failure_class,),
            "reason": (info.failure_class, info.normalized_reason),
            "agent": (info.agent,),
            "tool": (info.tool,),
        }[by]
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "failure_class": info.failure_class if by in ("class", "reason") else None,
                "normalized_reason": info.normalized_reason if by == "reason" else None,
                "agent": info.agent if by == "agent" else None,
                "tool": info.tool if by == "tool" else None,
                "count": 0,
                "classes": [],
                "frameworks": [],
                "example_runs": [],
                "example_reason": info.reason,
            }
        group["count"] += 1
        for name, value in (("classes", info.failure_class), ("frameworks", info.framework)):
            if value not in group[name]:
                group[name].append(value)
        if len(group["example_runs"]) < examples:
            group["example_runs"].append(info.run_id)
    return sorted(
        groups.values(),
        key=lambda g: (
            -g["count"],
            str(g["failure_class"]),
            str(g["normalized_reason"]),
            str(g["agent"]),
            str(g["tool"]),
        ),
    )


def failure_groups(engine: Engine, by: str = "reason", examples: int = 3) -> list[dict[str, Any]]:
    """``group_failures`` over every failed run in the database."""
    return group_failures(failed_runs(engine), by, examples)

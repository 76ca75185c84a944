"""A run's short human name and short id, the same on every page and in ``baton runs``.

The name is the run's task (its first line); else what the framework says of who ran it
(agent · phase · project, as techrevati sessions and workers record them); else the name of
the file it came from (``tracker.json#usage`` rather than a three-line absolute path); else
the framework's own id. The short id is the start of Baton's id, which every command and
the Run page accept as a prefix.
"""

from __future__ import annotations

from typing import Any

NAME_WIDTH = 60
SHORT_ID = 8
_EMPTY = (None, "", "None", "null", "-")


def _clip(text: str, width: int = NAME_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _file_name(text: str) -> str | None:
    """``/a/b/waiting.jsonl#unattributed`` -> ``waiting.jsonl#unattributed``; None for a
    value that is not a path."""
    path, _, key = text.partition("#")
    if "/" not in path and "\\" not in path:
        return None
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return f"{name}#{key}" if key else name


def run_name(run: dict[str, Any]) -> str:
    """The short human name of a run dict (``run_to_dict``'s fields)."""
    task = run.get("task")
    if isinstance(task, str) and task.strip():
        return _clip(task.strip().splitlines()[0])
    attributes = run.get("attributes") or {}
    agents = [a for a in run.get("agents") or [] if isinstance(a, str) and a]
    agent = attributes.get("role") or (", ".join(agents[:3]) if agents else None)
    phase = attributes.get("phase") or attributes.get("loop_name")
    project = attributes.get("project_id")
    parts = [str(agent)] if agent not in _EMPTY else []
    if phase not in _EMPTY:
        parts.append(str(phase))
    if project not in _EMPTY:
        parts.append(f"project {project}")
    if parts:
        return _clip(" · ".join(parts))
    native = str(run.get("native_id") or "")
    from_file = _file_name(native) or _file_name(str(attributes.get("source") or ""))
    if from_file:
        return _clip(from_file)
    return _clip(native) if native else short_id(run.get("id"))


def short_id(run_id: Any) -> str:
    return str(run_id or "")[:SHORT_ID]

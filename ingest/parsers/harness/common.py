"""What the react-agent-harness parsers share: checkpoint keys, run ids in file names,
version ids, and the priorities that decide which file speaks for a run.

The harness writes no timestamp into its checkpoints and overwrites them in place, so a
version's native id is ``<key>@<progress>#<content hash>``: the store orders versions of
one key (same chain key, no created_at) by native id, which is then their progress order.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import orjson

FRAMEWORK = "harness"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# Which file speaks for a run (core.store.runmerge: higher priority wins field by field).
PRIORITY_AGENT = 0  # an agent checkpoint left on disk: little is known
PRIORITY_ORCHESTRATOR = 1  # the orchestration's own checkpoint
PRIORITY_WAITING = 2  # an agent stopped at a human-approval prompt
PRIORITY_TRACE = 3  # the event stream: terminal events say how the run ended
STATUS_BASIS = "status_basis"  # attribute that says why a fragment's status is what it is


def file_key(path: Path) -> str:
    """The checkpoint key a ``FileCheckpointStore`` file stands for (its name minus ``.json``)."""
    name = path.name
    return name[:-5] if name.endswith(".json") else path.stem


def run_id_in_name(path: Path) -> str | None:
    """A run id written into a file name (the sample generator names traces and budget
    snapshots ``<scenario>--<run_id>``); None when the name holds no UUID."""
    match = UUID.search(path.name)
    return match.group(0).lower() if match else None


def content_hash(doc: Any) -> str:
    data = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.blake2b(data, digest_size=6).hexdigest()


def version_id(key: str, progress: str, doc: Any) -> str:
    return f"{key}@{progress}#{content_hash(doc)}"


def short_json(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(text: Any, limit: int = 200) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    line = text.strip().splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def budget_usage(budget: Any) -> dict[str, Any]:
    """RunRecord usage fields from a ``BudgetGuard.snapshot()`` (cost_usd is the adapter's
    own figure, so it is a reported cost)."""
    if not isinstance(budget, dict):
        return {}
    usage = {
        "input_tokens": as_int(budget.get("tokens_in")),
        "output_tokens": as_int(budget.get("tokens_out")),
        "cost_usd": as_float(budget.get("cost_usd")),
    }
    return {key: value for key, value in usage.items() if value is not None}

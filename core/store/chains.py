"""Chain checkpoints that name no parent: same chain key, ordered by creation time.

loopengt checkpoints and react-agent-harness versions carry no parent link; their order
is their history. Used both on rows read back from the database and on a batch's rows
before they are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any


def _order(row: Any) -> tuple[float, str]:
    created: datetime | None = row["created_at"]
    return (created.timestamp() if created else 0.0, row["native_id"])


def chain_parent_changes(rows: Iterable[Any]) -> Iterator[tuple[Any, str | None]]:
    """For checkpoint rows (mappings with id, run_id, chain_key, created_at, native_id,
    parent_id) that have a chain key and no parent of their own, yield ``(row, parent_id)``
    wherever the parent the chain implies differs from the row's current one."""
    chains: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        chains.setdefault((row["run_id"], row["chain_key"]), []).append(row)
    for members in chains.values():
        members.sort(key=_order)
        previous = None
        for row in members:
            if row["parent_id"] != previous:
                yield row, previous
            previous = row["id"]

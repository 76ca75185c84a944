"""A thread's status by the rule of shared/formats/langgraph_and_otlp.md A.7, from its newest
root-namespace checkpoint and that checkpoint's writes (the tasks that ran after it).

1. a ``__error__`` write: failed (an error on an older checkpoint is history);
2. an ``__interrupt__`` write with no ``__resume__``: waiting, asking the interrupt's value;
3. a task scheduled that never ran (``branch:to:*``, ``__pregel_tasks``, ``__start__`` in the
   channel values): stopped between steps, which a breakpoint, a killed process and a
   recursion limit all look like: ``paused``, inferred;
4. else completed.
lgcs 1.0 (checkpoint ``v`` 1) names edge channels after nodes, so rule 3 needs the graph:
anything past rules 1 and 2 is "completed or stopped", reported as ``unknown``. A newest
checkpoint that cannot be read (pickle, encrypted) is ``unknown`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.parsers.langgraph.blobs import Opaque


@dataclass(slots=True)
class Verdict:
    status: str
    basis: str
    inferred: bool = False
    reason: str | None = None  # the error text (failed)
    question: Any = None  # the interrupt value (waiting)
    next_nodes: tuple[str, ...] = ()


def interrupt_values(value: Any) -> list[Any]:
    """What an ``__interrupt__`` write asks: the ``value`` of each Interrupt."""
    items = value if isinstance(value, list | tuple) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("v"), dict) and "value" in item["v"]:
            out.append(item["v"]["value"])
        elif isinstance(item, dict) and "value" in item:
            out.append(item["value"])
        else:
            out.append(item)
    return out


def scheduled(channel_values: Any) -> tuple[str, ...]:
    """Nodes scheduled by a checkpoint's channel values that have not run (rule 3)."""
    if not isinstance(channel_values, dict):
        return ()
    nodes = [str(k)[len("branch:to:") :] for k in channel_values if str(k).startswith("branch:to:")]
    if channel_values.get("__pregel_tasks"):
        nodes.append("__pregel_tasks")
    if "__start__" in channel_values:
        nodes.append("__start__")
    return tuple(nodes)


def thread_status(checkpoint: Any, version: Any, writes: list[tuple[str, Any]]) -> Verdict:
    """``checkpoint``: the decoded newest root checkpoint; ``writes``: (channel, value) of its
    pending writes."""
    errors = [value for channel, value in writes if channel == "__error__"]
    if errors:
        text = errors[-1] if isinstance(errors[-1], str) else repr(errors[-1])
        return Verdict("failed", "an __error__ write on the newest checkpoint", reason=text)
    interrupts = [value for channel, value in writes if channel == "__interrupt__"]
    if interrupts and not any(channel == "__resume__" for channel, _ in writes):
        asked = [v for value in interrupts for v in interrupt_values(value)]
        return Verdict(
            "waiting",
            "an __interrupt__ write without a __resume__ on the newest checkpoint",
            question=asked[0] if len(asked) == 1 else asked,
        )
    if isinstance(checkpoint, Opaque) or not isinstance(checkpoint, dict):
        return Verdict(
            "unknown", "the newest checkpoint cannot be read, so completed and stopped look alike", True
        )
    if version == 1:
        return Verdict(
            "unknown",
            "completed or stopped between steps: lgcs 1.0 names edges after nodes, so it cannot tell",
            True,
        )
    pending = scheduled(checkpoint.get("channel_values"))
    if pending:
        return Verdict(
            "paused",
            "stopped between steps (a breakpoint, a killed process or a recursion limit): "
            f"{', '.join(pending)} scheduled and never run",
            True,
            next_nodes=pending,
        )
    return Verdict("completed", "nothing scheduled, no error or interrupt on the newest checkpoint")

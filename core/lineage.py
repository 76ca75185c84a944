"""A run's checkpoint forest as a graph: chains, forks, restarts, handoffs.

Input is the checkpoint dicts of :func:`core.queries.run_checkpoints`. The model marks
failed and waiting checkpoints, agent changes along an edge (handoffs), forks (a checkpoint
continued more than once) and restarts (a later root of the same run: ACF ``restart``, a new
attempt). Long linear stretches of unremarkable checkpoints collapse into one node so a
forest of a thousand checkpoints stays readable; the selected checkpoint never collapses.

:func:`to_dot` renders the model as Graphviz DOT. Node names are our own (``n12``); every
text from a file goes into a quoted, escaped label, never into DOT syntax or HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ATTENTION = ("failed", "waiting", "paused")
COLLAPSE_MIN = 4
STATUS_COLORS = {
    "completed": ("#d3f9d8", "#2b8a3e"),
    "failed": ("#ffe3e3", "#c92a2a"),
    "waiting": ("#fff3bf", "#e67700"),
    "paused": ("#fff3bf", "#e67700"),
    "running": ("#dbe4ff", "#364fc7"),
    "unknown": ("#f1f3f5", "#495057"),
}


@dataclass(slots=True)
class Node:
    key: str  # our own DOT name: n0, n1, ...
    checkpoint_ids: list[str]  # one, or several for a collapsed stretch
    status: str
    agent: str | None
    label: str
    collapsed: bool = False
    root: bool = False
    restart: bool = False
    fork: bool = False


@dataclass(slots=True)
class Edge:
    source: str
    target: str
    kind: str  # chain, handoff, restart
    label: str = ""


@dataclass(slots=True)
class Lineage:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # checkpoint ids
    forks: list[str] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)
    handoffs: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    missing_parents: list[str] = field(default_factory=list)  # checkpoints whose parent is not loaded
    node_of: dict[str, str] = field(default_factory=dict)  # checkpoint id -> node key


def _time(cp: dict[str, Any]) -> float:
    value = cp.get("created_at")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return 0.0
    return 0.0


def _order(cp: dict[str, Any]) -> tuple[float, str]:
    return (_time(cp), str(cp.get("native_id") or cp["id"]))


def short(text: str | None, width: int = 24) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


# UUIDs of versions 1, 6 and 7 begin with their timestamp: checkpoints written in the same
# second share their first dozen characters (LangGraph's ids), so the label shows the tail.
_TIME_ORDERED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[167][0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def id_hint(native_id: str) -> str:
    """The part of a checkpoint id a node label shows: its start, or the tail of an id that
    begins with a timestamp."""
    if _TIME_ORDERED_UUID.fullmatch(native_id):
        return "…" + native_id[-12:]
    return short(native_id, 14)


def _label(cp: dict[str, Any]) -> str:
    step = f" · step {cp['step']}" if cp.get("step") is not None else ""
    created = str(cp.get("created_at") or "")[:19].replace("T", " ")
    lines = [
        f"{id_hint(cp.get('native_id') or cp['id'])}{step}",
        f"{cp.get('status') or 'unknown'} · {short(cp.get('agent_id') or '-')}",
    ]
    if created:
        lines.append(created)
    return "\n".join(lines)


def build(
    checkpoints: list[dict[str, Any]],
    selected: str | None = None,
    collapse_min: int = COLLAPSE_MIN,
    expanded: frozenset[str] = frozenset(),
) -> Lineage:
    """The graph model of one run's checkpoints (``selected`` and the checkpoints in
    ``expanded``, stretches a user opened, stay visible)."""
    by_id = {cp["id"]: cp for cp in checkpoints}
    children: dict[str | None, list[str]] = {}
    model = Lineage()
    for cp in sorted(checkpoints, key=_order):
        parent = cp.get("parent_id")
        if parent and parent not in by_id:
            model.missing_parents.append(cp["id"])
            parent = None
        children.setdefault(parent, []).append(cp["id"])
    model.roots = children.get(None, [])
    model.restarts = [cid for cid in model.roots[1:] if not by_id[cid].get("parent_id")]
    model.forks = [cid for cid, kids in children.items() if cid is not None and len(kids) > 1]

    def is_plain(cid: str) -> bool:
        """May disappear into a collapsed stretch."""
        cp = by_id[cid]
        parent = cp.get("parent_id")
        kids = children.get(cid, [])
        return (
            cid != selected
            and cid not in expanded
            and parent in by_id
            and len(kids) == 1
            and cp.get("status") not in ATTENTION
            and by_id[parent].get("agent_id") == cp.get("agent_id")
            and by_id[kids[0]].get("agent_id") == cp.get("agent_id")
        )

    counter = 0

    def new_node(ids: list[str], collapsed: bool = False) -> Node:
        nonlocal counter
        first = by_id[ids[0]]
        if collapsed:
            label = f"… {len(ids)} checkpoints …\n{short(first.get('agent_id') or '-')}"
        else:
            label = _label(first)
        node = Node(
            key=f"n{counter}",
            checkpoint_ids=ids,
            status=str(first.get("status") or "unknown"),
            agent=first.get("agent_id"),
            label=label,
            collapsed=collapsed,
            root=ids[0] in model.roots,
            restart=ids[0] in model.restarts,
            fork=ids[0] in model.forks,
        )
        counter += 1
        model.nodes.append(node)
        for cid in ids:
            model.node_of[cid] = node.key
        return node

    def walk(root: str) -> None:
        """Depth first from ``root``, grouping runs of plain checkpoints into one node."""
        stack: list[tuple[str, str | None]] = [(root, None)]
        while stack:
            cid, parent_key = stack.pop()
            if cid in model.node_of:
                continue  # a parent cycle in the source: show each checkpoint once
            run = [cid]
            while is_plain(run[-1]):
                following = children[run[-1]][0]
                if following in run or following in model.node_of or not is_plain(following):
                    break
                run.append(following)
            node = new_node(run, collapsed=True) if len(run) >= collapse_min else new_node([cid])
            tail = node.checkpoint_ids[-1]
            if parent_key is not None:
                _connect(model, by_id[by_id[cid]["parent_id"]], by_id[cid], parent_key, node.key)
            stack.extend((kid, node.key) for kid in reversed(children.get(tail, [])))

    for root in model.roots:
        walk(root)
    for cp in sorted(checkpoints, key=_order):
        if cp["id"] not in model.node_of:  # only reachable through a cycle
            model.roots.append(cp["id"])
            model.missing_parents.append(cp["id"])
            walk(cp["id"])
    _link_restarts(model, by_id, children)
    return model


def _connect(model: Lineage, parent: dict[str, Any], child: dict[str, Any], source: str, target: str) -> None:
    from_agent, to_agent = parent.get("agent_id"), child.get("agent_id")
    if from_agent == to_agent:
        model.edges.append(Edge(source, target, "chain"))
        return
    model.handoffs.append((parent["id"], child["id"], from_agent, to_agent))
    label = f"handoff {short(from_agent, 16)} → {short(to_agent, 16)}"
    model.edges.append(Edge(source, target, "handoff", label))


def _link_restarts(
    model: Lineage, by_id: dict[str, dict[str, Any]], children: dict[str | None, list[str]]
) -> None:
    """A dashed edge from the newest checkpoint before each restart to the restarted root."""
    tree: dict[str, str] = {}
    for root in model.roots:
        stack = [root]
        while stack:
            cid = stack.pop()
            if cid not in tree:
                tree[cid] = root
                stack.extend(children.get(cid, []))
    ordered = sorted(by_id.values(), key=_order)
    position = {cp["id"]: index for index, cp in enumerate(ordered)}
    for root in model.restarts:
        index = position[root] - 1
        while index >= 0 and tree.get(ordered[index]["id"]) == root:
            index -= 1
        if index >= 0 and ordered[index]["id"] in model.node_of:
            model.edges.append(
                Edge(model.node_of[ordered[index]["id"]], model.node_of[root], "restart", "restart")
            )


def dot_escape(text: str) -> str:
    """Make any text safe inside a double-quoted DOT string (no escString surprises)."""
    cleaned = "".join(ch if ch == "\n" or ch >= " " else " " for ch in str(text))
    return cleaned.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in attrs.items())


def to_dot(model: Lineage, selected: str | None = None, rankdir: str = "LR") -> str:
    """Graphviz DOT for ``st.graphviz_chart``; the selected checkpoint's node is outlined."""
    chosen = model.node_of.get(selected or "")
    lines = [
        "digraph lineage {",
        f"  rankdir={'TB' if rankdir == 'TB' else 'LR'};",
        '  bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, margin="0.12,0.06"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#868e96"];',
    ]
    for node in model.nodes:
        fill, border = STATUS_COLORS.get(node.status, STATUS_COLORS["unknown"])
        attrs = {"label": f'"{dot_escape(node.label)}"', "fillcolor": f'"{fill}"', "color": f'"{border}"'}
        if node.collapsed:
            attrs.update(style='"rounded,filled,dashed"', fillcolor='"#f8f9fa"', color='"#adb5bd"')
        if node.key == chosen:  # outlined; a failed checkpoint stays red when selected
            attrs.update(penwidth="3", color='"#1c7ed6"')
        elif node.status in ATTENTION:
            attrs["penwidth"] = "2"
        if node.restart:
            attrs["peripheries"] = "2"
        lines.append(f"  {node.key} [{_attrs(attrs)}];")
    for edge in model.edges:
        attrs = {}
        if edge.kind == "handoff":
            attrs.update(color='"#ae3ec9"', fontcolor='"#ae3ec9"', penwidth="1.6")
        elif edge.kind == "restart":
            attrs.update(style='"dashed"', color='"#e8590c"', fontcolor='"#e8590c"', constraint="false")
        if edge.label:
            attrs["label"] = f'"{dot_escape(edge.label)}"'
        suffix = f" [{_attrs(attrs)}]" if attrs else ""
        lines.append(f"  {edge.source} -> {edge.target}{suffix};")
    lines.append("}")
    return "\n".join(lines)


def newest_not_failed(checkpoints: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest checkpoint that is not failed: where a resume would start, by status alone
    (``failures.last_usable_before_failure`` also asks whether the saved state is usable)."""
    good = [cp for cp in checkpoints if cp.get("status") not in ("failed",)]
    return max(good, key=_order) if good else None

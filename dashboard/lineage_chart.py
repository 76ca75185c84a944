"""A run's lineage (``core.lineage``'s model) as an ECharts graph for ``st.echarts_chart``:
nodes laid out left to right by depth, one lane per branch, zoom and pan by mouse, a click
selects a node (``on_select``). Pure: a model in, an option dict out.

Text from a file only ever goes into labels and tooltips, which ECharts draws as plain text.
"""

from __future__ import annotations

from typing import Any

from core.lineage import ATTENTION, STATUS_COLORS, Lineage

X_STEP, Y_STEP = 170, 78
SELECTED = "#1c7ed6"


def layout(model: Lineage) -> dict[str, tuple[int, int]]:
    """node key -> (depth, lane): a child continues its parent's lane, a fork's other
    children and every new root (a restart) open lanes of their own."""
    parents: dict[str, str] = {}
    restart_source: dict[str, str] = {}
    for edge in model.edges:
        if edge.kind == "restart":
            restart_source.setdefault(edge.target, edge.source)
        else:
            parents.setdefault(edge.target, edge.source)
    place: dict[str, tuple[int, int]] = {}
    lanes_used = 0
    continued: set[str] = set()  # parents whose lane a child already took
    for node in model.nodes:  # model order: depth first, a parent before its children
        parent = parents.get(node.key)
        if parent is not None and parent in place:
            depth = place[parent][0] + 1
            if parent not in continued:
                continued.add(parent)
                place[node.key] = (depth, place[parent][1])
                continue
        else:
            source = restart_source.get(node.key)
            depth = place[source][0] + 1 if source in place else 0
        place[node.key] = (depth, lanes_used)
        lanes_used += 1
    # Lanes opened by forks are numbered in creation order; pack them so lanes stay dense.
    return place


def _node_style(status: str, collapsed: bool, selected: bool) -> dict[str, Any]:
    fill, border = STATUS_COLORS.get(status, STATUS_COLORS["unknown"])
    style: dict[str, Any] = {"color": fill, "borderColor": border, "borderWidth": 1.5}
    if collapsed:
        style.update(color="#f1f3f5", borderColor="#868e96", borderType="dashed")
    elif status in ATTENTION:
        style["borderWidth"] = 2.5
    if selected:  # the status colour stays (a failed checkpoint is red when selected too)
        style.update(borderColor=SELECTED, borderWidth=4, shadowBlur=8, shadowColor=SELECTED)
    return style


def option(model: Lineage, selected: str | None, dark: bool = False) -> dict[str, Any]:
    """The ECharts option of the graph; node ``i`` of ``series[0].data`` is ``model.nodes[i]``."""
    place = layout(model)
    chosen = model.node_of.get(selected or "")
    text = "#e9ecef" if dark else "#212529"
    data = []
    for node in model.nodes:
        depth, lane = place[node.key]
        label = node.label
        data.append(
            {
                "name": node.key,
                "x": depth * X_STEP,
                "y": lane * Y_STEP,
                "value": len(node.checkpoint_ids),
                "symbol": "roundRect",
                "symbolSize": [150, 54],
                "itemStyle": _node_style(node.status, node.collapsed, node.key == chosen),
                "label": {
                    "show": True,
                    "formatter": label.replace("{", "(").replace("}", ")"),
                    "color": "#212529",
                },
                "tooltip": {
                    "formatter": (
                        ("Click to expand this stretch\n" if node.collapsed else "Click to select\n")
                        + label.replace("{", "(").replace("}", ")")
                    )
                },
            }
        )
    links = []
    for edge in model.edges:
        style: dict[str, Any] = {"color": "#868e96", "width": 1.4, "curveness": 0.0}
        if edge.kind == "handoff":
            style.update(color="#ae3ec9", width=2)
        elif edge.kind == "restart":
            style.update(color="#e8590c", type="dashed", curveness=0.25)
        link: dict[str, Any] = {"source": edge.source, "target": edge.target, "lineStyle": style}
        if edge.label:
            link["label"] = {
                "show": True,
                "formatter": edge.label.replace("{", "(").replace("}", ")"),
                "fontSize": 10,
                "color": style["color"],
            }
        links.append(link)
    return {
        "animation": False,
        "tooltip": {"show": True, "confine": True},
        "textStyle": {"color": text},
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "scaleLimit": {"min": 0.05, "max": 4},
                "selectedMode": "single",
                "select": {"itemStyle": {"borderColor": SELECTED, "borderWidth": 4}},
                "emphasis": {"focus": "adjacency", "scale": False},
                "edgeSymbol": ["none", "arrow"],
                "edgeSymbolSize": 7,
                "label": {"fontSize": 10, "lineHeight": 13},
                "data": data,
                "links": links,
            }
        ],
    }


def picked_node_index(state: Any, nodes: int) -> int | None:
    """The index (in the model's nodes) of the node a click selected, from
    ``st.echarts_chart``'s returned state; None when nothing is selected."""
    try:
        chosen = state["selection"]["selected"]
    except (KeyError, TypeError):
        return None
    for item in chosen or []:
        indices = item.get("data_indices") or []
        if item.get("data_type") in (None, "main", "node") and indices and 0 <= indices[0] < nodes:
            return int(indices[0])
    return None

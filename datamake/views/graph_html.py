"""--graph html: a layered layout of the GraphView and the self-contained page that draws it."""
from __future__ import annotations

import json
from importlib import resources

from datamake.views.graph_view import COLOURS, GraphView, Node, layers

CHAR_WIDTH = 6.6  # px per character of the 12px sans-serif labels, a little generous
MAX_LABEL = 40
COLUMN_GAP = 90
ROW_GAP = 14
SWEEPS = 2  # barycenter passes; more rarely helps and costs time on big graphs


def node_size(node: Node) -> tuple[float, float]:
    """Width and height of a node's box: two lines for steps (label, state), one for files and tags."""
    text = len(_short(node.label)) * CHAR_WIDTH
    if node.kind == "step":  # the state line is set in a smaller font
        text = max(text, len(_short(node.state_text)) * CHAR_WIDTH * 0.88)
    return round(text + 24, 1), (42.0 if node.kind == "step" else 26.0)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def pull_sources(view: GraphView, depth: dict[str, int]) -> dict[str, int]:
    """Move source files and tags next to their first reader, so their edges stay short."""
    readers: dict[str, list[int]] = {}
    has_maker = {dst for _, dst in view.edges}
    for src, dst in view.edges:
        readers.setdefault(src, []).append(depth[dst])
    moved = dict(depth)
    for node in view.nodes:
        if node.kind != "step" and node.id not in has_maker and node.id in readers:
            moved[node.id] = min(readers[node.id]) - 1
    return moved


def order_layers(view: GraphView, depth: dict[str, int]) -> list[list[str]]:
    """Nodes per layer, ordered by the barycenter heuristic to cut edge crossings."""
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in view.nodes:
        columns[depth[node.id]].append(node.id)
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for src, dst in view.edges:
        preds.setdefault(dst, []).append(src)
        succs.setdefault(src, []).append(dst)
    for _ in range(SWEEPS):
        _sweep(columns, preds, range(1, len(columns)))
        _sweep(columns, succs, range(len(columns) - 2, -1, -1))
    return columns


def _sweep(columns: list[list[str]], neighbours: dict[str, list[str]], order: range) -> None:
    position = {nid: i for column in columns for i, nid in enumerate(column)}
    for layer in order:
        def key(nid: str) -> float:
            near = neighbours.get(nid)
            return sum(position[n] for n in near) / len(near) if near else position[nid]

        columns[layer].sort(key=key)
        position.update({nid: i for i, nid in enumerate(columns[layer])})


def layout(view: GraphView) -> dict[str, tuple[float, float, float, float]]:
    """Left-to-right layered positions: node id -> (x, y, width, height), columns centred vertically."""
    nodes = {n.id: n for n in view.nodes}
    columns = order_layers(view, pull_sources(view, layers(view)))
    sizes = {nid: node_size(nodes[nid]) for nid in nodes}
    heights = [sum(sizes[nid][1] + ROW_GAP for nid in column) for column in columns]
    tallest = max(heights, default=0)
    boxes: dict[str, tuple[float, float, float, float]] = {}
    x = 0.0
    for column, height in zip(columns, heights):
        y = (tallest - height) / 2
        for nid in column:
            w, h = sizes[nid]
            boxes[nid] = (x, y, w, h)
            y += h + ROW_GAP
        x += max((sizes[nid][0] for nid in column), default=0) + COLUMN_GAP
    return boxes


def page_data(view: GraphView) -> dict:
    """The JSON the page's script draws: laid-out nodes, edges, timeline, legend colours."""
    boxes = layout(view)
    nodes = []
    for n in view.nodes:
        x, y, w, h = boxes[n.id]
        nodes.append({"id": n.id, "kind": n.kind, "label": n.label, "short": _short(n.label),
                      "state": n.state, "stateText": _short(n.state_text), "reason": n.reason,
                      "command": n.command, "protocol": n.protocol, "inputs": list(n.inputs),
                      "outputs": list(n.outputs), "location": n.location, "log": n.log_tail,
                      "x": x, "y": y, "w": w, "h": h})
    bars = [{"node": b.node, "label": b.label, "start": b.started, "end": b.finished,
             "outcome": b.outcome, "ok": b.ok} for b in view.timeline]
    return {"title": view.title, "nodes": nodes, "edges": [list(e) for e in view.edges],
            "timeline": bars, "counts": view.counts(), "colours": dict(COLOURS)}


def render_html(view: GraphView) -> str:
    """One self-contained page: no network, the data and the script inline."""
    template = resources.files("datamake").joinpath("templates/graph.html").read_text(encoding="utf-8")
    # `</` inside a <script> would end it early; \u003c keeps the JSON valid and the page intact.
    data = json.dumps(page_data(view), separators=(",", ":")).replace("<", "\\u003c")
    title = view.title.replace("&", "&amp;").replace("<", "&lt;")
    return template.replace("__DATAMAKE_TITLE__", title).replace("__DATAMAKE_DATA__", data)

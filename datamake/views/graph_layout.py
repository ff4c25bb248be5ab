"""Node positions for the report's graph: our layered layout, or Graphviz's for large graphs."""
from __future__ import annotations

import shutil
import subprocess

from datamake.views.graph_html import layout, node_size
from datamake.views.graph_render import render_dot
from datamake.views.graph_view import GraphView

GRAPHVIZ_FROM = 300  # nodes: from here on, Graphviz's crossing reduction is worth its seconds
GRAPHVIZ_UP_TO = 1200  # beyond, even its cheapest settings take longer than the rest of the report
GRAPHVIZ_TIMEOUT = 10.0
# Cheap settings: no edge routing (the page draws its own curves) and short crossing/ranking searches;
# the defaults took 60 s and more on 320 densely linked nodes.
GRAPHVIZ_FLAGS = ("-Gsplines=false", "-Gmclimit=0.01", "-Gnslimit=0.2", "-Gnslimit1=0.2")
POINTS = 72.0  # Graphviz's plain output is in inches; the page draws in px


def positions(view: GraphView) -> dict[str, tuple[float, float, float, float]]:
    """node id -> (x, y, width, height), left to right; Graphviz `dot` lays out large graphs when installed
    (up to GRAPHVIZ_UP_TO nodes, within GRAPHVIZ_TIMEOUT); otherwise, or when it fails, our layered layout."""
    if GRAPHVIZ_FROM <= len(view.nodes) <= GRAPHVIZ_UP_TO and shutil.which("dot"):
        placed = graphviz_positions(view)
        if placed is not None:
            return placed
    return layout(view)


def graphviz_positions(view: GraphView) -> dict[str, tuple[float, float, float, float]] | None:
    """Positions from `dot -Tplain` with our node sizes; None when dot fails (the caller falls back)."""
    sizes = {n.id: node_size(n) for n in view.nodes}
    source = render_dot(view).replace("rankdir=LR;", "rankdir=LR; nodesep=0.15; ranksep=0.9;", 1)
    sized = "\n".join(f'  "{_escape(nid)}" [width={w / POINTS:.3f}, height={h / POINTS:.3f}, fixedsize=true];'
                      for nid, (w, h) in sizes.items())
    source = source.rstrip().rstrip("}") + sized + "\n}\n"
    try:
        done = subprocess.run(["dot", "-Tplain", *GRAPHVIZ_FLAGS], input=source.encode(), capture_output=True,
                              timeout=GRAPHVIZ_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return _parse_plain(done.stdout.decode("utf-8", "replace"), sizes)


def _parse_plain(text: str, sizes: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float, float, float]] | None:
    """`graph scale W H` then `node NAME X Y W H ...` lines (centres, y upwards) -> top-left boxes, y down."""
    height = 0.0
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for line in text.splitlines():
        parts = _split(line)
        if parts[:1] == ["graph"]:
            height = float(parts[3]) * POINTS
        elif parts[:1] == ["node"] and parts[1] in sizes:
            w, h = sizes[parts[1]]
            cx, cy = float(parts[2]) * POINTS, float(parts[3]) * POINTS
            boxes[parts[1]] = (round(cx - w / 2, 1), round(height - cy - h / 2, 1), w, h)
    return boxes if len(boxes) == len(sizes) else None


def _split(line: str) -> list[str]:
    """Graphviz plain lines: words, or "quoted strings" with backslash escapes."""
    out, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
        elif line[i] == '"':
            j, word = i + 1, []
            while j < len(line) and line[j] != '"':
                if line[j] == "\\" and j + 1 < len(line):
                    j += 1
                word.append(line[j])
                j += 1
            out.append("".join(word))
            i = j + 1
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            out.append(line[i:j])
            i = j
    return out


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')

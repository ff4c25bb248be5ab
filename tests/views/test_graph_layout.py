"""Positions for the report's graph: Graphviz for large graphs (when installed), our layered layout otherwise."""
from __future__ import annotations

import shutil

import pytest
from stepkit import wf

from datamake.views import graph_layout, graph_view

D = "/proj"


def chain_view(steps: int):
    flow = wf(D, *[([f"d/{i}.csv"], [f"d/{i - 1}.csv"] if i else []) for i in range(steps)])
    return graph_view.build_view(flow.steps, {}, {}, (), D, "chain")


def assert_left_to_right(view, boxes):
    for src, dst in view.edges:
        assert boxes[src][0] + boxes[src][2] <= boxes[dst][0], (src, dst)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot not installed")
def test_a_large_graph_is_laid_out_by_graphviz_left_to_right():
    view = chain_view(160)  # 320 nodes
    placed = graph_layout.graphviz_positions(view)
    assert placed is not None and set(placed) == {n.id for n in view.nodes}
    assert placed == graph_layout.positions(view)
    assert_left_to_right(view, placed)


def test_a_small_graph_keeps_our_own_layout():
    view = chain_view(20)
    boxes = graph_layout.positions(view)
    assert boxes == graph_layout.layout(view)
    assert_left_to_right(view, boxes)


def test_quoted_names_in_graphviz_output():
    assert graph_layout._split('node "f:/a b\\"c" 1.5 2 1 0.5') == ["node", 'f:/a b"c', "1.5", "2", "1", "0.5"]

"""The step graph: edges by file and tag, cycles and duplicates only when reached, speed."""
import time

import pytest

from datamake.errors import WorkflowError
from datamake.graph.step_graph import build_graph
from stepkit import wf


def test_edges_follow_files_and_tags(tmp_path):
    sg = build_graph(wf(str(tmp_path), (["a"], []), (["b", "%t"], ["a"]), (["%t"], []), (["c"], ["%t"])))
    assert sorted(sg.edges) == [(0, 1), (1, 3), (2, 3)]
    assert sg.ancestors([3]) == {0, 1, 2, 3}
    assert sg.descendants([0]) == {0, 1, 3}


def test_order_is_topological_with_file_order_ties(tmp_path):
    sg = build_graph(wf(str(tmp_path), (["z"], ["y"]), (["x"], []), (["y"], ["x"]), (["w"], [])))
    assert sg.order(range(4)) == [1, 2, 0, 3]


def test_cycle_is_named_only_when_reached(tmp_path):
    sg = build_graph(wf(str(tmp_path), (["a"], ["b"]), (["b"], ["a"]), (["c"], [])))
    assert sg.order([2]) == [2]
    with pytest.raises(WorkflowError) as err:
        sg.order([0, 1, 2])
    assert err.value.message == "cycle dependency detected: a -> b -> a"


def test_cycle_reached_through_a_step_outside_it(tmp_path):
    # step 0 depends on the cycle b <-> c but is not on it; it is the first stuck step
    sg = build_graph(wf(str(tmp_path), (["a"], ["b"]), (["b"], ["c"]), (["c"], ["b"]), (["d"], ["a"])))
    with pytest.raises(WorkflowError) as err:
        sg.order(range(4))
    assert err.value.message == "cycle dependency detected: b -> c -> b"
    assert err.value.loc.line == 2


def test_duplicate_output_names_the_second_step(tmp_path):
    sg = build_graph(wf(str(tmp_path), (["a"], []), (["a"], []), (["c"], [])))
    assert sg.order([2]) == [2]
    with pytest.raises(WorkflowError) as err:
        sg.order([1, 2])
    assert err.value.message == "duplicated outputs: a"
    assert err.value.loc.line == 2


def test_twenty_thousand_steps_in_well_under_a_second(tmp_path):
    specs = [([f"f{i}"], [f"f{i - 1}"] if i else []) for i in range(20000)]
    workflow = wf(str(tmp_path), *specs)
    start = time.perf_counter()
    sg = build_graph(workflow)
    order = sg.order(sg.ancestors([19999]))
    assert time.perf_counter() - start < 1.0
    assert order[:3] == [0, 1, 2] and len(order) == 20000

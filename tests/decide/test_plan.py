"""The ready queue: wanted steps become ready in plan order once every wanted step above them succeeded."""
from __future__ import annotations

from stepkit import wf

from datamake.decide.plan import Entry, Plan, decide
from datamake.decide.staleness import UP_TO_DATE, Reason
from datamake.graph.select import select
from datamake.graph.step_graph import build_graph

D = "/proj"


def plan_of(flow, wanted, order=None):
    """A Plan over the steps in `order` (default file order); those in `wanted` will run, the rest are up to date."""
    sg = build_graph(flow)
    indexes = order if order is not None else range(len(flow.steps))
    entries = [Entry(flow.steps[i], Reason("forced") if i in wanted else Reason(UP_TO_DATE)) for i in indexes]
    return Plan(sg, entries)


def drain(plan):
    """Pop and succeed every ready step in turn; the order they came out."""
    order = []
    while plan.has_ready():
        index = plan.pop_ready()
        order.append(index)
        plan.succeeded(index)
    return order


# raw -> clean -> report, raw -> stats; lookup (alone)
FLOW = wf(D, (["raw"], []), (["clean"], ["raw"]), (["report"], ["clean", "stats"]), (["stats"], ["raw"]),
          (["lookup"], []))


def test_steps_come_out_in_plan_order_each_after_everything_it_waits_for():
    plan = plan_of(FLOW, wanted={0, 1, 2, 3, 4}, order=[0, 1, 3, 2, 4])
    assert [plan.pop_ready() for _ in range(2)] == [0, 4]  # both have nothing to wait for
    assert not plan.has_ready()
    plan.succeeded(0)
    assert plan.pop_ready() == 1 and plan.pop_ready() == 3 and not plan.has_ready()
    plan.succeeded(3)
    assert not plan.has_ready()  # report still waits for clean
    plan.succeeded(1)
    assert plan.pop_ready() == 2


def test_a_step_that_is_up_to_date_is_not_waited_for():
    plan = plan_of(FLOW, wanted={1, 2})
    assert drain(plan) == [1, 2]


def test_a_failure_skips_every_wanted_step_below_it_in_plan_order_and_nothing_else():
    plan = plan_of(FLOW, wanted={0, 1, 2, 3, 4})
    assert plan.pop_ready() == 0
    assert plan.failed(0) == [1, 2, 3]
    assert plan.skipped == {1: "upstream step raw failed", 2: "upstream step raw failed",
                            3: "upstream step raw failed"}
    assert drain(plan) == [4]
    assert plan.failed(0) == []  # each is skipped once


def test_a_step_already_started_is_not_skipped_when_a_sibling_fails():
    plan = plan_of(FLOW, wanted={0, 1, 2, 3})
    plan.succeeded(plan.pop_ready())
    clean, stats = plan.pop_ready(), plan.pop_ready()
    assert plan.failed(stats) == [2]  # report; clean is already running
    assert clean not in plan.skipped


def test_abandon_skips_what_has_not_started():
    plan = plan_of(FLOW, wanted={0, 1, 2, 3, 4})
    plan.pop_ready()
    assert plan.abandon("interrupted") == [1, 2, 3, 4]
    assert not plan.has_ready() and set(plan.skipped.values()) == {"interrupted"}


def test_decide_marks_steps_below_a_running_one_projected(tmp_path):
    for name in ("raw", "clean"):
        (tmp_path / name).write_text("x")
    flow = wf(str(tmp_path), (["raw"], [], {"body": "true"}), (["clean"], ["raw"]), (["new"], []))
    sg = build_graph(flow)
    entries = decide(sg, select(sg, ["+raw", "clean", "new"]), check="timestamp", record_of=lambda step: None)
    assert [(e.step.index, e.reason.label) for e in entries] == [(0, "forced"), (1, "projected"),
                                                                 (2, "missing output")]
    plan = Plan(sg, entries)
    assert [plan.pop_ready(), plan.pop_ready()] == [0, 2]  # clean waits for raw
    plan.succeeded(0)
    assert plan.pop_ready() == 1

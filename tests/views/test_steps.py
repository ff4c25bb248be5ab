"""One step header and one step JSON record, as the preview, --print, --graph and the schedule show them."""
from __future__ import annotations

from stepkit import wf

from datamake.decide.staleness import Reason
from datamake.views.steps import decision_json, format_plan, header, names, preview_json, step_json

D = "/proj"


def test_the_header_names_files_relative_to_the_step_then_tags():
    first, lonely, sink = wf(D, (["out/a.csv", "%done"], ["in.csv", "?opt.csv", "%raw"]), (["x"], []),
                             ([], ["%done"])).steps
    assert header(first) == "out/a.csv, %done <- in.csv, opt.csv, %raw"
    assert header(first, "/proj/out", marks=True) == "a.csv, %done <- /proj/in.csv, ?/proj/opt.csv, %raw"
    assert header(lonely) == "x <-"
    assert header(sink) == "<- %done"
    assert names(first, inputs=True) == ["in.csv", "opt.csv", "%raw"]


def test_the_json_record_starts_every_step_record_alike():
    step = wf(D, (["out/a.csv", "%done"], ["in.csv"])).steps[0]
    assert step_json(step) == {"index": 0, "outputs": ["out/a.csv"], "inputs": ["in.csv"]}
    reason = Reason("missing output", "out/a.csv does not exist")
    assert decision_json(step, reason) == {**step_json(step), "label": "out/a.csv, %done", "tags": ["done"],
                                           "reason": "missing output"}
    assert decision_json(step, reason, evidence=True)["evidence"] == "out/a.csv does not exist"


def test_the_preview_lists_wanted_steps_and_with_why_the_rest():
    made, kept = wf(D, (["a"], []), (["b"], ["a"])).steps
    pairs = [(made, Reason("forced")), (kept, Reason("up to date", "b is newer than a"))]
    assert format_plan(pairs) == "The following steps will be run, in order:\n  1: a <- [forced]\n"
    assert format_plan(pairs, why=True).endswith("  up to date: b <- a\n       b is newer than a\n")
    assert format_plan(pairs[1:]) == "Nothing to do.\n"
    assert preview_json(pairs) == {"schema": 1, "steps": [{"index": 0, "outputs": ["a"], "inputs": [], "label": "a",
                                                           "tags": [], "reason": "forced"}]}
    assert preview_json(pairs, why=True)["up_to_date"][0]["evidence"] == "b is newer than a"

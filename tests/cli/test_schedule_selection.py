"""Selecting steps in schedule mode: what is selected is what runs, or an error says why."""
from __future__ import annotations

import json

NOW = "--now=2026-11-24T10:00:00Z"
TWO = """
    raw/$[DATE].json <-
      echo "raw $DATE" >> runs; echo raw > $OUTPUT
    report/$[DATE].csv <- raw/$[DATE].json
      echo "report $DATE" >> runs; cp $INPUT $OUTPUT
"""


def runs(project) -> list[str]:
    return project.read("runs").splitlines() if project.exists("runs") else []


def test_date_with_one_step_runs_exactly_that_step(project):
    project.workflow(TWO)
    assert project.run("--date", "2026-11-23", NOW).returncode == 0
    r = project.run("--date", "2026-11-23", "+=report/2026-11-23.csv", "--json", NOW)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["intervals"][0]["ran"] == [1]
    assert runs(project) == ["raw 2026-11-23", "report 2026-11-23", "report 2026-11-23"]


def test_one_step_whose_input_is_missing_is_an_error_not_a_wider_build(project):
    project.workflow(TWO)
    r = project.run("--date", "2026-11-23", "=report/2026-11-23.csv", NOW)
    assert r.returncode == 2
    assert "missing input: raw/2026-11-23.json" in r.stderr
    assert runs(project) == []


def test_a_step_named_with_date_variables_selects_it_in_each_interval(project):
    project.workflow(TWO)
    assert project.run("--from", "2026-11-21", "--to", "2026-11-22", NOW).returncode == 0
    r = project.run("--from", "2026-11-21", "--to", "2026-11-22", "+^raw/$[DATE].json", NOW)
    assert r.returncode == 0, r.stderr
    assert runs(project)[4:] == ["raw 2026-11-21", "report 2026-11-21", "raw 2026-11-22", "report 2026-11-22"]


def test_a_step_only_selection_leaves_the_interval_partial_for_the_next_tick(project):
    project.workflow(TWO)
    project.write("raw/2026-11-23.json", "given\n")
    assert project.run("--date", "2026-11-23", "=report/2026-11-23.csv", NOW).returncode == 0
    assert runs(project) == ["report 2026-11-23"]
    status = json.loads(project.run("--status", "--json", NOW).stdout)["intervals"]
    assert [(i["key"], i["state"]) for i in status] == [("2026-11-23", "success")]  # its outputs all exist


def test_a_target_of_another_interval_is_an_error(project):
    project.workflow(TWO)
    r = project.run("--date", "2026-11-23", "=report/2026-11-22.csv", NOW)
    assert r.returncode == 2 and runs(project) == []
    assert r.stderr.startswith("datamake: error: target =report/2026-11-22.csv is in interval 2026-11-22, "
                               "not in --date 2026-11-23 (2026-11-23)")
    r = project.run("--from", "2026-11-21", "--to", "2026-11-22", "=report/2026-11-22.csv", NOW)
    assert r.returncode == 2 and "in a range, name the step with $[DATE]" in r.stderr

"""`--clear`: steps × intervals marked to be rebuilt by the next tick; `--failed` only the failed ones; `-P` shows."""
from __future__ import annotations

import json

NOW = "--now=2026-11-24T10:00:00Z"
WORKFLOW = """
    %schedule daily start:2026-11-20
    raw/$[DATE].json <-
      echo "raw $DATE" >> runs
      [ ! -e broken-$DATE ] || exit 1
      echo raw > $OUTPUT
    report/$[DATE].csv <- raw/$[DATE].json
      echo "report $DATE" >> runs; cp $INPUT $OUTPUT
"""


def runs(project) -> list[str]:
    return project.read("runs").splitlines() if project.exists("runs") else []


def states(project) -> dict[str, str]:
    status = json.loads(project.run("--status", "--json", NOW).stdout)["intervals"]
    return {i["key"]: i["state"] for i in status}


def test_a_range_clear_rebuilds_those_steps_on_the_next_tick(project):
    project.workflow(WORKFLOW)
    assert project.run("--once", NOW).returncode == 0
    built = len(runs(project))
    preview = project.run("--clear", "-P", "--from", "2026-11-21", "--to", "2026-11-22", "report", NOW)
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.splitlines() == ["would clear 2026-11-21: report/$[DATE].csv",
                                           "would clear 2026-11-22: report/$[DATE].csv",
                                           "2 interval(s) would be cleared"]
    assert states(project)["2026-11-21"] == "success"  # -P changed nothing
    r = project.run("--clear", "--from", "2026-11-21", "--to", "2026-11-22", "report", NOW)
    assert r.returncode == 0 and "cleared 2 step(s) in 2 interval(s)" in r.stderr
    assert states(project)["2026-11-22"] == "cleared"
    assert project.run("--once", NOW).returncode == 0
    assert runs(project)[built:] == ["report 2026-11-21", "report 2026-11-22"]  # only what was cleared
    assert set(states(project).values()) == {"success"}
    assert project.run("--once", NOW).returncode == 0 and len(runs(project)) == built + 2  # done: once


def test_a_failed_only_clear_reruns_the_failed_interval_alone(project):
    project.workflow(WORKFLOW)
    project.write("broken-2026-11-22")
    assert project.run("--once", NOW).returncode == 1
    assert project.run("--once", NOW).returncode == 0  # it alerted once: the next tick leaves it alone
    assert states(project)["2026-11-22"] == "failed"
    preview = project.run("--clear", "--failed", "-P", NOW)
    assert preview.stdout.splitlines() == ["would clear 2026-11-22: raw/$[DATE].json",
                                           "1 interval(s) would be cleared"]
    (project.path / "broken-2026-11-22").unlink()
    built = len(runs(project))
    assert project.run("--clear", "--failed", NOW).returncode == 0
    assert project.run("--once", NOW).returncode == 0
    assert runs(project)[built:] == ["raw 2026-11-22", "report 2026-11-22"]
    assert set(states(project).values()) == {"success"}

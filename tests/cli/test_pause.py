"""Pausing a schedule: kept in the state, ticks build nothing, --status says so, --resume goes on."""
from __future__ import annotations

import json

WORKFLOW = """
    %schedule daily start:2026-11-22
    out/$[DATE].txt <-
      echo ok > $OUTPUT
"""


def test_pause_and_resume(project):
    project.workflow(WORKFLOW)
    r = project.run("--pause")
    assert r.returncode == 0 and "schedule of Drakefile paused" in r.stderr
    tick = project.run("--once", "--now=2026-11-24T01:00:00Z")
    assert tick.returncode == 0 and "schedule paused since" in tick.stderr
    assert not project.exists("out")
    status = project.run("--status", "--json", "--now=2026-11-24T01:00:00Z")
    assert json.loads(status.stdout)["paused_since"] is not None
    assert project.run("--status", "--now=2026-11-24T01:00:00Z").stdout.startswith("schedule paused since")
    # An explicit interval is an operator's own request: it runs while paused.
    assert project.run("--date", "2026-11-22", "--now=2026-11-24T01:00:00Z").returncode == 0
    assert project.run("--resume").returncode == 0
    assert project.run("--once", "--now=2026-11-24T01:00:00Z").returncode == 0
    assert sorted(p.name for p in (project.path / "out").iterdir()) == ["2026-11-22.txt", "2026-11-23.txt"]
    assert json.loads(project.run("--status", "--json", "--now=2026-11-24T01:00:00Z").stdout)["paused_since"] is None

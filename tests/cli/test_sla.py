"""SLAs: an interval not done that long after its end fires sla_missed once, and --status marks it."""
from __future__ import annotations

import json

RECORD = 'echo "$DATAMAKE_EVENT $DATAMAKE_INTERVAL $DATAMAKE_SLA $DATAMAKE_STATE" >> sla'


def test_an_sla_miss_fires_once_across_ticks_and_status_marks_it(project):
    project.workflow("""
        %schedule daily start:2026-11-22 sla:11h
        out/$[DATE].txt <-
          [ "$DATE" != 2026-11-22 ] || exit 1
          echo ok > $OUTPUT
    """)
    ticks = ["2026-11-23T05:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T13:00:00Z", "2026-11-24T12:00:00Z"]
    for now in ticks:
        project.run("--once", f"--now={now}", "--on-sla-miss", RECORD)
    # 2026-11-22 failed at 05:00 and missed its SLA at 11:00; 2026-11-23 was built in time.
    assert project.read("sla").splitlines() == ["sla_missed 2026-11-22 11h failed"]
    status = json.loads(project.run("--status", "--json", "--now=2026-11-24T12:00:00Z").stdout)["intervals"]
    assert {i["key"]: i["sla_missed"] for i in status} == {"2026-11-22": True, "2026-11-23": False}
    table = project.run("--status", "--now=2026-11-24T12:00:00Z").stdout
    assert "2026-11-22: SLA missed" in table


def test_a_step_sla_tightens_the_schedules(project):
    project.workflow("""
        %schedule daily start:2026-11-23
        out/$[DATE].txt <- [sla:2h]
          exit 1
    """)
    project.run("--once", "--now=2026-11-24T01:00:00Z", "--on-sla-miss", RECORD)
    assert not project.exists("sla")
    project.run("--once", "--now=2026-11-24T02:30:00Z", "--on-sla-miss", RECORD)
    assert project.read("sla").splitlines() == ["sla_missed 2026-11-23 2h failed"]

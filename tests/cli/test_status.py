"""`datamake --status`: intervals by step, like Airflow's grid view, as a table and as JSON."""
from __future__ import annotations

import json

NOW = "--now=2026-11-24T10:00:00Z"


def test_status_shows_each_interval_by_step(project):
    project.workflow("""
        %schedule daily start:2026-11-20
        raw/$[DATE].json <-
          echo raw > $OUTPUT

        report/$[DATE].csv <- raw/$[DATE].json [retries:1 retry-delay:0.1s]
          if [ "$DATE" = 2026-11-21 ]; then exit 1; fi
          cat $INPUT > $OUTPUT
    """)
    assert project.run("--from", "2026-11-20", "--to", "2026-11-21", NOW).returncode == 1
    r = project.run("--status", NOW, env={"COLUMNS": "120"})
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("│")]
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    assert cells == [
        ["2026-11-20", "success", "1", "success", "success"],
        ["2026-11-21", "failed", "2", "success", "failed"],
        ["2026-11-22", "missing", "0", "missing", "missing"],
        ["2026-11-23", "missing", "0", "missing", "missing"],
    ]
    assert "raw/$[DATE].json" in r.stdout and "report/$[DATE].csv" in r.stdout
    assert "2026-11-21: report/2026-11-21.csv: exit 1" in r.stdout

    data = json.loads(project.run("--status", "--json", NOW).stdout)
    assert data["steps"] == ["raw/$[DATE].json", "report/$[DATE].csv"]
    assert [(i["key"], i["state"], i["steps"]) for i in data["intervals"]][:2] == [
        ("2026-11-20", "success", {"raw/$[DATE].json": "success", "report/$[DATE].csv": "success"}),
        ("2026-11-21", "failed", {"raw/$[DATE].json": "success", "report/$[DATE].csv": "failed"}),
    ]


def test_status_without_any_record_or_schedule(project):
    project.workflow("""
        out.txt <-
          echo hi > $OUTPUT
    """)
    r = project.run("--status")
    assert r.returncode == 0 and r.stdout.strip() == "no intervals recorded or due"

"""History that does not come back: outputs made before datamake (or under another schedule) are adopted."""
from __future__ import annotations

import json

INGEST = """
    %schedule daily start:2025-11-24

    raw/$[DATE].json <-
      echo "$DATE" >> downloads
      echo "raw $DATE" > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json
      echo "$DATE" >> reports
      wc -c < $INPUT > $OUTPUT
"""
NOW = "--now=2026-11-24T03:00:00Z"


def test_a_team_moving_over_from_cron_does_not_download_a_year_again(project):
    project.workflow(INGEST)
    days = [f"2025-11-{d}" for d in range(24, 31)] + [f"2025-12-{d:02d}" for d in range(1, 32)]
    for day in days:  # what the old cron job made (a part of the year, to keep the test quick)
        project.write(f"raw/{day}.json", f"raw {day}\n")
        project.write(f"report/{day}.csv", "11\n")
    r = project.run("--once", "--json", NOW)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["intervals"]
    adopted = [i["key"] for i in got if i["status"] == "adopted"]
    assert adopted == days
    assert f"adopted {len(days)} interval(s) whose outputs already exist: 2025-11-24 .. 2025-12-31" in r.stderr
    downloads = project.read("downloads").split()
    assert not set(days) & set(downloads)  # nothing it already had was fetched again
    assert downloads[0] == "2026-01-01" and downloads[-1] == "2026-11-23"
    status = json.loads(project.run("--status", "--json", NOW).stdout)["intervals"]
    states = {i["key"]: i["state"] for i in status}
    assert states["2025-11-24"] == "adopted" and states["2026-01-01"] == "success"
    assert project.run("--status", NOW).stdout.startswith("365 intervals (327 success, 38 adopted), 2 steps")
    again = project.run("--once", "--json", NOW)
    assert json.loads(again.stdout)["intervals"] == []


def test_an_adopted_interval_that_loses_an_output_is_built_again(project):
    project.workflow(INGEST.replace("start:2025-11-24", "start:2026-11-22"))
    for day in ("2026-11-22", "2026-11-23"):
        project.write(f"raw/{day}.json", f"raw {day}\n")
        project.write(f"report/{day}.csv", "15\n")
    project.run("--once", NOW)
    (project.path / "report/2026-11-22.csv").unlink()
    r = project.run("--once", "--json", NOW)
    assert [(i["key"], i["status"]) for i in json.loads(r.stdout)["intervals"]] == [("2026-11-22", "success")]
    assert project.read("reports").split() == ["2026-11-22"]


def test_a_changed_schedule_does_not_bring_old_intervals_back(project):
    project.workflow(INGEST.replace("start:2025-11-24", "start:2026-11-16"))
    assert project.run("--once", NOW).returncode == 0
    built = project.read("downloads").split()
    assert built == [f"2026-11-{d}" for d in range(16, 24)]
    # Same outputs, another expression: the intervals' keys and bounds change, the files stay.
    project.workflow(INGEST.replace("%schedule daily start:2025-11-24", '%schedule "0 6 * * *" start:2026-11-16T06:00'))
    r = project.run("--once", "--json", NOW)
    assert r.returncode == 0, r.stderr
    assert {i["status"] for i in json.loads(r.stdout)["intervals"]} <= {"adopted"}
    assert project.read("downloads").split() == built
    project.workflow(INGEST.replace("%schedule daily start:2025-11-24", "%schedule every:1d start:2026-11-10"))
    r = project.run("--once", "--json", NOW)
    assert r.returncode == 0, r.stderr
    assert project.read("downloads").split() == built + [f"2026-11-{d}" for d in range(10, 16)]


def test_a_tick_trusts_old_records_and_sweeps_every_output_once_a_day(project):
    project.workflow(INGEST.replace("start:2025-11-24", "start:2026-11-10"))
    assert project.run("--once", "--now=2026-11-24T01:00:00Z").returncode == 0
    (project.path / "report/2026-11-12.csv").unlink()  # old: found by the next daily sweep
    (project.path / "report/2026-11-22.csv").unlink()  # recent: found by the next tick
    r = project.run("--once", "--json", "--now=2026-11-24T05:00:00Z")
    assert [i["key"] for i in json.loads(r.stdout)["intervals"]] == ["2026-11-22"], r.stderr
    r = project.run("--once", "--json", "--now=2026-11-25T01:30:00Z")
    assert [i["key"] for i in json.loads(r.stdout)["intervals"]] == ["2026-11-12", "2026-11-24"], r.stderr

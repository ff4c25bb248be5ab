"""Earlier intervals in names: yesterday's file ($[DATE-1]) and a window of the last 7 ($[DATE-6..0])."""
from __future__ import annotations


import pytest

from datamake.language.load import load_workflow
from datamake.schedule import dated
from datamake.schedule.intervals import Schedule, parse_time
from datamake.schedule.template import DatedTemplate
from jsonkit import checked

DAYS = """
    %schedule daily start:2026-11-14 wait:30d

    daily/$[DATE].csv <- landing/$[DATE].csv
      cp $INPUT $OUTPUT

    delta/$[DATE].csv <- daily/$[DATE].csv, daily/$[DATE-1].csv
      echo "$INPUT1 -> $INPUT0" > $OUTPUT

    week/$[DATE].csv <- daily/$[DATE-6..0].csv
      cat $INPUTS > $OUTPUT
"""


def land(project, first=14, last=23):
    for day in range(first, last + 1):
        project.write(f"landing/2026-11-{day}.csv", f"{day}\n")


@pytest.mark.parametrize("max_active", ["1", "2"])
def test_yesterdays_file_and_a_7_day_window_in_catch_up_order(project, max_active):
    project.workflow(DAYS)
    land(project)
    r = project.run("--once", "--json", "--max-active", max_active, "--now=2026-11-24T03:00:00Z")
    assert r.returncode == 0, r.stderr
    assert project.read("delta/2026-11-15.csv").strip() == "daily/2026-11-14.csv -> daily/2026-11-15.csv"
    assert project.read("week/2026-11-20.csv").split() == [str(d) for d in range(14, 21)]
    assert project.read("week/2026-11-23.csv").split() == [str(d) for d in range(17, 24)]
    assert not project.exists("week/2026-11-19.csv") and not project.exists("delta/2026-11-14.csv")
    # The first days wait for the days before the start; their own daily file was built meanwhile.
    assert project.exists("daily/2026-11-14.csv")
    status = {i["key"]: i for i in checked(project.run("--status", "--json", "--now=2026-11-24T03:00:00Z").stdout, "status")["intervals"]}
    assert status["2026-11-14"]["state"] == "waiting"
    assert status["2026-11-14"]["waiting_for"] == [f"daily/2026-11-{d:02d}.csv" for d in range(8, 14)]
    assert status["2026-11-14"]["steps"]["daily/$[DATE].csv"] == "success"
    assert status["2026-11-19"]["waiting_for"] == ["daily/2026-11-13.csv"]
    assert [k for k, i in status.items() if i["state"] == "success"] == ["2026-11-20", "2026-11-21", "2026-11-22",
                                                                          "2026-11-23"]


def test_a_late_day_holds_up_the_windows_that_need_it_until_it_lands(project):
    project.workflow(DAYS)
    land(project)
    (project.path / "landing/2026-11-21.csv").unlink()
    r = project.run("--once", "--now=2026-11-24T03:00:00Z")
    assert r.returncode == 0, r.stderr
    assert project.exists("week/2026-11-20.csv") and not project.exists("week/2026-11-21.csv")
    assert "interval 2026-11-23: waiting for daily/2026-11-21.csv" in r.stderr
    project.write("landing/2026-11-21.csv", "21\n")
    r = project.run("--once", "--now=2026-11-24T04:00:00Z")
    assert r.returncode == 0, r.stderr
    assert project.read("week/2026-11-23.csv").split() == [str(d) for d in range(17, 24)]


def test_a_backfill_builds_a_window_from_files_already_there(project):
    project.workflow(DAYS)
    land(project)
    for day in range(14, 24):
        project.write(f"daily/2026-11-{day}.csv", f"{day}\n")
    r = project.run("--from", "2026-11-22", "--to", "2026-11-22", "--now=2026-11-24T03:00:00Z", "--json")
    assert [i["status"] for i in checked(r.stdout, "schedule")["intervals"]] == ["success"], r.stderr
    assert project.read("week/2026-11-22.csv").split() == [str(d) for d in range(16, 23)]


def test_a_bad_window_is_a_located_error(project):
    project.workflow("""
        %schedule daily
        week/$[DATE].csv <- daily/$[DATE-0..6].csv
          cat $INPUTS > $OUTPUT
    """)
    r = project.run("--once", "--now=2026-11-24T03:00:00Z")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == ("Drakefile:3:27: error: bad window $[DATE-0..6]: write $[DATE-A..B] with "
                                        "A >= B, one per name (e.g. $[DATE-6..0] for the last 7)")


def test_earlier_names_are_filled_in_from_one_evaluation(project):
    path = project.workflow(DAYS)
    shape = load_workflow(str(path), variables=dict(dated.SENTINELS))
    template = DatedTemplate.of(shape, lambda values: load_workflow(str(path), variables=values))
    assert template is not None
    interval = Schedule("daily").containing(parse_time("2026-11-23T12:00", Schedule("daily").tz))
    filled = template.workflow(interval.variables())
    assert filled == load_workflow(str(path), variables=interval.variables())
    assert [t.name.rsplit("/", 1)[1] for t in filled.steps[2].inputs] == [f"2026-11-{d}.csv" for d in range(17, 24)]

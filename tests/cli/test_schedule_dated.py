"""Which steps are dated (found by evaluation), lost targets, DST days and the declared schedule, end to end."""
from __future__ import annotations

from jsonkit import checked

NOW = "--now=2026-11-24T10:00:00Z"


def lines(project, name):
    return project.read(name).split() if project.exists(name) else []


def test_dated_names_from_an_include_or_a_variable_make_a_plain_run_scheduled(project):
    project.write("steps.drake", """
        DAY=$[DATE_NODASH]
        raw/$[DAY].json <-
          echo "$DATE" >> downloads
          echo raw > $OUTPUT
    """)
    # The main file never writes an interval variable: only evaluation shows its steps are dated.
    project.workflow("""
        %schedule daily start:2026-11-22
        %include steps.drake
        report/$[DAY].csv <- raw/$[DAY].json
          cp $INPUT $OUTPUT
    """)
    r = project.run(NOW)
    assert r.returncode == 0, r.stderr
    assert lines(project, "downloads") == ["2026-11-22", "2026-11-23"]
    assert project.exists("report/20261123.csv")
    assert project.run("report/20261120.csv", NOW).returncode == 0
    assert lines(project, "downloads") == ["2026-11-22", "2026-11-23", "2026-11-20"]


def test_a_workflow_defining_DATE_itself_is_an_ordinary_build(project):
    project.workflow("""
        DATE=2020-01-01
        out/$[DATE].txt <-
          echo built > $OUTPUT
    """)
    r = project.run(NOW)
    assert r.returncode == 0, r.stderr
    assert project.exists("out/2020-01-01.txt") and "interval" not in r.stderr


DAILY = """
    %schedule daily start:2026-11-20
    raw/$[DATE].json <-
      echo "$DATE" >> downloads
      echo raw > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json
      echo "$DATE" >> reports
      cp $INPUT $OUTPUT
"""


def test_a_lost_target_makes_its_interval_missing_and_the_next_run_rebuilds_only_it(project):
    project.workflow(DAILY)
    assert project.run("--once", NOW).returncode == 0
    (project.path / "report/2026-11-21.csv").unlink()
    status = checked(project.run("--status", "--json", NOW).stdout, "status")
    got = {i["key"]: (i["state"], i["steps"]["report/$[DATE].csv"], i["steps"]["raw/$[DATE].json"])
           for i in status["intervals"]}
    assert got["2026-11-21"] == ("missing", "missing", "success")
    assert got["2026-11-22"] == ("success", "success", "success")
    r = project.run("--once", NOW)
    assert r.returncode == 0, r.stderr
    assert lines(project, "reports") == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-21"]
    assert lines(project, "downloads") == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    status = checked(project.run("--status", "--json", NOW).stdout, "status")
    assert {i["state"] for i in status["intervals"]} == {"success"}


def test_a_lost_target_outside_the_catch_up_window_is_rebuilt_too(project):
    project.workflow(DAILY.replace("%schedule daily start:2026-11-20", "%schedule daily"))
    assert project.run("--from", "2026-11-20", "--to", "2026-11-23", NOW).returncode == 0
    (project.path / "report/2026-11-21.csv").unlink()
    r = project.run("--once", NOW)  # the window starts at the last recorded interval, 2026-11-23
    assert r.returncode == 0, r.stderr
    assert "interval 2026-11-21: success (1 step(s) ran)" in r.stderr
    assert lines(project, "reports") == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-21"]


def test_daily_and_hourly_intervals_across_new_york_dst_changes(project):
    project.workflow("""
        out/$[INTERVAL_START].txt <-
          echo "$INTERVAL_START $INTERVAL_END" > $OUTPUT
    """)
    daily = project.run("--schedule", "daily", "--tz", "America/New_York", "--from", "2026-03-07", "--to",
                        "2026-03-08", "--json", NOW)
    assert daily.returncode == 0, daily.stderr
    assert [i["key"] for i in checked(daily.stdout, "schedule")["intervals"]] == ["2026-03-07", "2026-03-08"]
    assert project.read("out/2026-03-08T00:00:00-05:00.txt").split()[1] == "2026-03-09T00:00:00-04:00"
    fall = project.run("--schedule", "hourly", "--tz", "America/New_York", "--from", "2026-11-01T00:00",
                       "--to", "2026-11-01T02:00", "--json", NOW)
    assert fall.returncode == 0, fall.stderr
    # 01:00 happens twice: two intervals, told apart by their UTC offset.
    assert [i["key"] for i in checked(fall.stdout, "schedule")["intervals"]] == [
        "2026-11-01T00:00-04:00", "2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00", "2026-11-01T02:00-05:00"]
    spring = project.run("--schedule", "hourly", "--tz", "America/New_York", "--from", "2026-03-08T01:00",
                         "--to", "2026-03-08T03:00", "--json", NOW)
    # 02:00 does not exist: 01:00 is followed by 03:00.
    assert [i["key"] for i in checked(spring.stdout, "schedule")["intervals"]] == [
        "2026-03-08T01:00-05:00", "2026-03-08T03:00-04:00"]
    assert project.read("out/2026-03-08T01:00:00-05:00.txt").split()[1] == "2026-03-08T03:00:00-04:00"


def test_the_declared_time_zone_and_start_apply_and_the_command_line_wins(project):
    project.workflow("""
        %schedule daily start:2026-11-23 tz:Asia/Tokyo
        out/$[DATE].txt <-
          echo "$INTERVAL_START" > $OUTPUT
    """)
    r = project.run("--json", NOW)  # 19:00 in Tokyo: the 23rd is over, the 24th is not
    assert [i["key"] for i in checked(r.stdout, "schedule")["intervals"]] == ["2026-11-23"]
    assert project.read("out/2026-11-23.txt").strip() == "2026-11-23T00:00:00+09:00"
    r = project.run("--tz", "UTC", "--start", "2026-11-22", "--json", NOW)
    assert [i["key"] for i in checked(r.stdout, "schedule")["intervals"]] == ["2026-11-22"]
    assert project.read("out/2026-11-22.txt").strip() == "2026-11-22T00:00:00+00:00"


def test_names_computed_from_an_interval_value_are_evaluated_for_each_interval(project):
    # A `$(command)` that cuts the date apart cannot be filled in from one evaluation.
    project.workflow("""
        %schedule daily
        YEAR=$(echo $[DATE] | tee -a commands.log | cut -c1-4)
        MONTH=$(echo $[DATE_NODASH] | cut -c5-6)
        by-month/$[YEAR]/$[MONTH]/$[DATE].txt <-
          echo "$[YEAR] $[MONTH] $HOUR" > $OUTPUT
    """)
    r = project.run("--from", "2026-10-31", "--to", "2026-11-01", NOW)
    assert r.returncode == 0, r.stderr
    assert project.read("by-month/2026/10/2026-10-31.txt").split() == ["2026", "10", "00"]
    assert project.read("by-month/2026/11/2026-11-01.txt").split() == ["2026", "11", "00"]
    # Once to see the workflow's shape (with a stand-in date), then once for each interval.
    assert lines(project, "commands.log")[1:] == ["2026-10-31", "2026-11-01"]


def test_every_step_sees_its_own_interval_in_names_bodies_options_and_variables(project):
    project.workflow("""
        %schedule daily
        STAMP=day-$[DATE_NODASH]
        ROOT=out/$[DATE]
        shared.txt <-
          echo "shared $DATE $STAMP" >> shared.log
          echo shared > $OUTPUT

        $[ROOT]/a.txt, %day-$[DATE] <- shared.txt [resources:"slot=$[HOUR]"]
          echo "$[STAMP] $STAMP $INTERVAL_END" > $OUTPUT

        $[ROOT]/b.txt <- %day-$[DATE], $[ROOT]/a.txt
          cat $INPUT > $OUTPUT
    """)
    r = project.run("--from", "2026-11-20", "--to", "2026-11-21", "--json", NOW)
    assert r.returncode == 0, r.stderr
    assert project.read("out/2026-11-20/b.txt").split() == [
        "day-20261120", "day-20261120", "2026-11-21T00:00:00+00:00"]
    assert project.read("out/2026-11-21/a.txt").split() == [
        "day-20261121", "day-20261121", "2026-11-22T00:00:00+00:00"]
    # A shared step with no inputs runs for each interval, with that interval's variables.
    assert lines(project, "shared.log") == ["shared", "2026-11-20", "day-20261120",
                                            "shared", "2026-11-21", "day-20261121"]
    preview = project.run("-P", "--from", "2026-11-22", "--to", "2026-11-22", "--json", NOW)
    steps = checked(preview.stdout, "schedule")["intervals"][0]["steps"]
    assert [s["outputs"] for s in steps] == [["shared.txt"], ["out/2026-11-22/a.txt"], ["out/2026-11-22/b.txt"]]

"""Schedule forms people write (every:, @once, end:, catchup:false, MINUTE) and their mistakes, as located errors."""
from __future__ import annotations


import pytest
from jsonkit import checked

STEP = """
out/$[DATE].txt <-
  echo "$INTERVAL_START" > $OUTPUT
"""


def keys(result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [i["key"] for i in checked(result.stdout, "schedule")["intervals"]]


def test_every_30m_with_a_minute_variable(project):
    project.workflow("""
        %schedule every:30m start:2026-11-23

        out/$[DATE]/$[HOUR]$[MINUTE].txt <-
          echo "$INTERVAL_START" > $OUTPUT
    """)
    r = project.run("--once", "--json", "--now=2026-11-23T01:40:00Z")
    assert keys(r) == ["2026-11-23T00:00+00:00", "2026-11-23T00:30+00:00", "2026-11-23T01:00+00:00"]
    assert project.read("out/2026-11-23/0030.txt").strip() == "2026-11-23T00:30:00+00:00"
    assert not project.exists("out/2026-11-23/0130.txt")  # not over until 02:00


def test_every_7d_is_anchored_at_start(project):
    project.workflow("%schedule every:7d start:2026-11-04\n" + STEP)  # a Wednesday
    r = project.run("--once", "--json", "--now=2026-11-24T00:00:00Z")
    assert keys(r) == ["2026-11-04", "2026-11-11"]  # the week from the 18th is not over yet
    assert project.read("out/2026-11-11.txt").strip() == "2026-11-11T00:00:00+00:00"


def test_once_runs_one_interval_and_never_again(project):
    project.workflow("%schedule @once start:2026-11-20\n" + STEP)
    assert keys(project.run("--once", "--json", "--now=2026-11-19T00:00:00Z")) == []
    assert keys(project.run("--once", "--json", "--now=2026-11-20T00:00:01Z")) == ["2026-11-20"]
    assert keys(project.run("--once", "--json", "--now=2027-01-01T00:00:00Z")) == []


def test_the_long_running_runner_stops_when_the_schedule_is_over(project):
    project.workflow("%schedule @once start:2026-11-20\n" + STEP)
    r = project.run("--schedule", "@once", "--now=2026-11-21T00:00:00Z", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "the schedule is over: no interval falls due any more"


def test_end_bounds_the_intervals(project):
    project.workflow("%schedule daily start:2026-11-20 end:2026-11-22\n" + STEP)
    assert keys(project.run("--once", "--json", "--now=2026-11-25T00:00:00Z")) == ["2026-11-20", "2026-11-21"]


def test_catchup_false_builds_only_the_newest_due_interval(project):
    project.workflow("%schedule daily start:2026-11-01 catchup:false\n" + STEP)
    assert keys(project.run("--once", "--json", "--now=2026-11-25T03:00:00Z")) == ["2026-11-24"]
    assert keys(project.run("--once", "--json", "--now=2026-11-27T03:00:00Z")) == ["2026-11-26"]


def test_tz_works_from_the_tzdata_package_without_system_zone_files(project, tmp_path):
    project.workflow("%schedule daily tz:Europe/Paris\n" + STEP)
    empty = tmp_path / "no-zones"
    empty.mkdir()
    r = project.run("--once", "--json", "--now=2026-11-24T10:00:00Z", env={"PYTHONTZPATH": str(empty)})
    assert keys(r) == ["2026-11-23"]
    assert project.read("out/2026-11-23.txt").strip() == "2026-11-23T00:00:00+01:00"


MISTAKES = [
    ("%schedule daily strat:2026-11-01", 17,
     "unknown %schedule key: strat (did you mean start?)"),
    ('%schedule "*/90 * * * *"', 11,
     "'*/90' in the minute field of '*/90 * * * *' does not divide 60: the intervals would be uneven "
     "(it fires at 0 of every hour) (use every:90m for a fixed period)"),
    ('%schedule "0 0 31 2 *"', 11,
     "cron expression '0 0 31 2 *' never fires: February has no day 31 "
     "(pick a day every listed month has, or L for the last day)"),
    ('%schedule "R 2 * * *"', 11,
     "random cron field 'R' in 'R 2 * * *': R picks another minute on every run, so the intervals would "
     "change from run to run (write a fixed minute, e.g. 17)"),
    ("%schedule every:0m", 11, "bad period: every:0m (write every:30m, every:2h or every:7d)"),
    ("%schedule @once", 11, "@once needs start: (when its one interval begins) (e.g. %schedule @once start:2026-11-01)"),
    ("%schedule daily catchup:nope", 17, "catchup:nope is not true or false"),
    ("%schedule daily start:2026-11-05 end:2026-11-01", 34, "end:2026-11-01 is not after start:2026-11-05"),
    ("%schedule daily tz:Mars/Olympus", 17,
     "unknown time zone: Mars/Olympus (use an IANA name such as UTC or Europe/Paris)"),
    ("%schedule daily wait:soon", 17, "option wait needs a duration like 90s, 5m, 2h or 1d, not 'soon'"),
]


@pytest.mark.parametrize("line, col, message", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_schedule_mistakes_are_located_errors_before_anything_runs(project, line, col, message):
    project.workflow(line + "\n" + STEP)
    r = project.run("--once", "--now=2026-11-24T10:00:00Z")
    assert r.returncode == 2
    assert r.stderr == f"Drakefile:1:{col}: error: {message}\n{line}\n{' ' * (col - 1)}^\n"
    assert not project.exists("out")


def test_a_bad_cron_on_the_command_line_is_a_usage_error(project):
    project.workflow(STEP)
    r = project.run("--schedule", "0 0 31 2 *", "--once", "--now=2026-11-24T10:00:00Z")
    assert r.returncode == 2
    assert r.stderr == ("datamake: error: cron expression '0 0 31 2 *' never fires: February has no day 31 "
                        "(pick a day every listed month has, or L for the last day)\n")


def test_a_30_minute_schedule_with_hourly_names_is_an_error_naming_both_intervals(project):
    project.workflow("""
        %schedule every:30m

        out/$[DATE]-$[HOUR].csv <-
          echo > $OUTPUT
    """)
    r = project.run("--once", "--now=2026-11-23T02:10:00Z")
    assert r.returncode == 2
    assert r.stderr.splitlines()[:3] == [
        "Drakefile:4:1: error: intervals 2026-11-21T02:00+00:00 and 2026-11-21T02:30+00:00 both name their "
        "output out/2026-11-21-02.csv (name sub-daily outputs with $[INTERVAL_START] (it carries the UTC offset), "
        "or $[HOUR] and $[MINUTE] under --tz UTC)",
        "out/$[DATE]-$[HOUR].csv <-", "^"]
    assert not project.exists("out")


def test_the_fall_back_hour_repeating_hour_names_is_an_error_naming_both_intervals(project):
    project.workflow("""
        %schedule hourly tz:America/New_York

        out/$[DATE]-$[HOUR].csv <-
          echo > $OUTPUT
    """)
    r = project.run("--once", "--now=2026-10-23T02:10:00Z")
    assert r.returncode == 2
    assert r.stderr.startswith("Drakefile:4:1: error: intervals 2026-11-01T01:00-04:00 and 2026-11-01T01:00-05:00 "
                               "both name their output out/2026-11-01-01.csv")

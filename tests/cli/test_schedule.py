"""The schedule runner end to end: due window, no-op repeats, catch-up, backfill, --rerun, dated targets."""
from __future__ import annotations

import textwrap
from jsonkit import checked

NOW = "--now=2026-11-24T10:00:00Z"

DAILY = """
    raw/$[DATE].json <-
      echo "$DATE" >> downloads
      echo "raw $DATE" > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json
      echo "$DATE" >> reports
      wc -c < $INPUT > $OUTPUT
"""


def setup(project, text=DAILY):
    project.workflow(text)


def lines(project, name):
    return project.read(name).split() if project.exists(name) else []


def test_only_intervals_whose_end_has_passed_are_built(project):
    setup(project)
    r = project.run("--schedule", "daily", "--once", NOW)
    assert r.returncode == 0, r.stderr
    # Default start is the latest due interval: yesterday; today (still open) is not built.
    assert lines(project, "downloads") == ["2026-11-23"]
    assert project.exists("report/2026-11-23.csv") and not project.exists("report/2026-11-24.csv")
    assert "interval 2026-11-23: success (2 step(s) ran)" in r.stderr


def test_a_repeat_run_is_a_no_op_and_never_redownloads(project):
    setup(project)
    assert project.run("--schedule", "daily", "--once", "--start", "2026-11-21", NOW).returncode == 0
    again = project.run("--schedule", "daily", "--once", "--start", "2026-11-21", NOW)
    assert again.returncode == 0 and "nothing due" in again.stderr
    assert lines(project, "downloads") == ["2026-11-21", "2026-11-22", "2026-11-23"]


def test_catch_up_after_downtime_builds_missed_intervals_oldest_first(project):
    setup(project)
    assert project.run("--schedule", "daily", "--once", "--now=2026-11-21T01:00:00Z").returncode == 0
    r = project.run("--schedule", "daily", "--once", NOW)
    assert r.returncode == 0, r.stderr
    assert lines(project, "downloads") == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]


def test_backfill_is_inclusive_and_running_it_twice_builds_once(project):
    setup(project)
    for _ in range(2):
        r = project.run("--schedule", "daily", "--from", "2026-11-01", "--to", "2026-11-03", NOW)
        assert r.returncode == 0, r.stderr
    assert lines(project, "downloads") == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert lines(project, "reports") == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_backfill_rebuilds_a_stale_report_but_not_its_download(project):
    setup(project)
    assert project.run("--from", "2026-11-01", "--to", "2026-11-02", NOW).returncode == 0
    project.write("raw/2026-11-02.json", "edited by hand\n")
    assert project.run("--from", "2026-11-01", "--to", "2026-11-02", NOW).returncode == 0
    assert lines(project, "downloads") == ["2026-11-01", "2026-11-02"]
    assert lines(project, "reports") == ["2026-11-01", "2026-11-02", "2026-11-02"]
    assert project.read("report/2026-11-02.csv").strip() == "15"


def test_rerun_failed_rebuilds_only_the_failed_interval(project):
    project.workflow("""
        out/$[DATE].txt <-
          echo "$DATE" >> runs
          if [ -e broken-$DATE ]; then exit 1; fi
          echo ok > $OUTPUT
    """)
    project.write("broken-2026-11-02")
    r = project.run("--from", "2026-11-01", "--to", "2026-11-03", NOW)
    assert r.returncode == 1 and "datamake: error: 1 interval(s) failed: 2026-11-02" in r.stderr
    (project.path / "broken-2026-11-02").unlink()
    r = project.run("--from", "2026-11-01", "--to", "2026-11-03", "--rerun", "failed", NOW)
    assert r.returncode == 0, r.stderr
    assert lines(project, "runs") == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-02"]


def test_rerun_all_forces_every_step_of_every_interval(project):
    setup(project)
    assert project.run("--from", "2026-11-01", "--to", "2026-11-02", NOW).returncode == 0
    assert project.run("--from", "2026-11-01", "--to", "2026-11-02", "--rerun", "all", NOW).returncode == 0
    assert lines(project, "downloads") == ["2026-11-01", "2026-11-02"] * 2


def test_date_builds_one_interval_and_a_dated_target_names_its_interval(project):
    setup(project)
    assert project.run("--date", "2026-10-05", NOW).returncode == 0
    assert lines(project, "reports") == ["2026-10-05"]
    r = project.run("report/2026-10-07.csv", NOW)
    assert r.returncode == 0, r.stderr
    assert lines(project, "reports") == ["2026-10-05", "2026-10-07"]


def test_plain_run_uses_the_declared_schedule_or_asks_for_one(project):
    setup(project)
    r = project.run(NOW)
    assert r.returncode == 2
    assert "datamake: error: the workflow uses interval variables ($[DATE], ...) but has no schedule" in r.stderr
    project.workflow("%schedule daily start:2026-11-22 tz:UTC\n" + textwrap.dedent(DAILY))
    r = project.run(NOW)
    assert r.returncode == 0, r.stderr
    assert lines(project, "downloads") == ["2026-11-22", "2026-11-23"]


def test_cli_schedule_wins_over_the_declared_one(project):
    project.workflow("""
        %schedule daily start:2026-11-22
        out/$[INTERVAL_START].txt <-
          echo $HOUR > $OUTPUT
    """)
    r = project.run("--schedule", "hourly", "--once", "--start", "2026-11-24T07:00:00Z", NOW)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (project.path / "out").iterdir()) == [
        "2026-11-24T07:00:00+00:00.txt", "2026-11-24T08:00:00+00:00.txt", "2026-11-24T09:00:00+00:00.txt"]


def test_preview_lists_due_intervals_and_why_without_running(project):
    setup(project)
    assert project.run("--date", "2026-11-22", NOW).returncode == 0
    r = project.run("-P", "--json", "--schedule", "daily", "--start", "2026-11-22", NOW)
    assert r.returncode == 0, r.stderr
    got = checked(r.stdout, "schedule")["intervals"]
    assert [(i["key"], i["reason"]) for i in got] == [("2026-11-23", "never built")]
    assert [s["reason"] for s in got[0]["steps"]] == ["missing output: raw/2026-11-23.json does not exist",
                                                    "missing output: report/2026-11-23.csv does not exist"]
    assert lines(project, "downloads") == ["2026-11-22"]


def test_preview_of_built_intervals_reads_their_records_and_changes_nothing(project):
    setup(project)
    assert project.run("--schedule", "daily", "--from", "2026-11-20", "--to", "2026-11-22", NOW).returncode == 0
    db = project.path / ".datamake" / "state.db"
    before = db.read_bytes()
    project.workflow(DAILY.replace("wc -c < $INPUT", "cat $INPUT"))
    r = project.run("-P", "--json", "--schedule", "daily", "--rerun", "all", "--from", "2026-11-20",
                    "--to", "2026-11-22", NOW)
    assert r.returncode == 0, r.stderr
    got = checked(r.stdout, "schedule")["intervals"]
    assert [i["key"] for i in got] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert {s["reason"] for i in got for s in i["steps"]} == {"forced"}
    r = project.run("-P", "--json", "--from", "2026-11-20", "--to", "2026-11-22", NOW)
    got = checked(r.stdout, "schedule")["intervals"]
    # Only the changed command runs again, in each interval: the others are up to date by their records.
    assert [[s["outputs"] for s in i["steps"]] for i in got] == [[[f"report/2026-11-{d}.csv"]] for d in (20, 21, 22)]
    assert all(i["steps"][0]["reason"].startswith("command changed") for i in got)
    assert db.read_bytes() == before
    assert lines(project, "reports") == ["2026-11-20", "2026-11-21", "2026-11-22"]


def test_long_running_mode_wakes_at_the_next_interval_end(project):
    import signal
    import subprocess
    import sys
    import threading
    import time

    from tests.conftest import ROOT

    setup(project, """
        report/$[DATE]-$[HOUR].csv <-
          echo "$HOUR" > $OUTPUT
    """)  # hourly intervals need hourly names: two intervals may not write one file
    proc = subprocess.Popen([sys.executable, "-m", "datamake", "--schedule", "hourly", "--now=2026-11-24T09:59:58Z"],
                            cwd=project.path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                            stderr=subprocess.PIPE, text=True)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(proc.stderr), daemon=True)
    reader.start()
    # The 08:00 interval is due at once; the runner then sleeps until 10:00 and builds 09:00.
    woke = "interval 2026-11-24T09:00+00:00: success"
    try:
        deadline = time.monotonic() + 30
        while not any(woke in line for line in said) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        reader.join(timeout=5)
    err = "".join(said)
    assert project.exists("report/2026-11-24-09.csv"), err
    assert "next interval due at 2026-11-24T10:00:00+00:00" in err
    assert woke in err

"""Late inputs: an interval waits for a file nobody makes, is built when it appears, fails when the wait runs out."""
from __future__ import annotations

import signal
import time

from s3.server import bucket, s3_server  # noqa: F401  (fixtures)
from tests.cli.test_schedule_failures import start_runner, wait_for
from jsonkit import checked

HOOK = ("--on-failure", 'echo "$DATAMAKE_DATE|$DATAMAKE_STATUS|$DATAMAKE_STEP|$DATAMAKE_ERROR" >> hooks')

LANDING = """
    %schedule daily start:2026-11-21 wait:6h poke:5m

    report/$[DATE].csv <- landing/$[DATE].csv
      cp $INPUT $OUTPUT
"""


def test_a_late_input_makes_its_interval_wait_while_later_ones_build_then_it_builds(project):
    project.workflow(LANDING)
    project.write("landing/2026-11-21.csv", "a\n")
    project.write("landing/2026-11-23.csv", "c\n")
    r = project.run("--once", "--now=2026-11-23T03:00:00Z", "--json", *HOOK)
    assert r.returncode == 0, r.stderr
    assert [(i["key"], i["status"]) for i in checked(r.stdout, "schedule")["intervals"]] == [
        ("2026-11-21", "success"), ("2026-11-22", "waiting")]
    assert ("interval 2026-11-22: waiting for landing/2026-11-22.csv (until 2026-11-23T06:00:00+00:00)"
            in r.stderr)
    r = project.run("--once", "--now=2026-11-24T03:00:00Z", "--json", *HOOK)
    assert [(i["key"], i["status"]) for i in checked(r.stdout, "schedule")["intervals"]] == [
        ("2026-11-22", "failed"), ("2026-11-23", "success")]
    assert project.read("report/2026-11-23.csv") == "c\n"
    assert not project.exists("report/2026-11-22.csv")


def test_status_shows_what_a_waiting_interval_waits_for(project):
    project.workflow(LANDING)
    project.run("--once", "--now=2026-11-22T01:00:00Z")
    table = project.run("--status", "--now=2026-11-22T01:00:00Z").stdout
    assert "│ 2026-11-21 │ waiting │     0 │ waiting            │" in table
    assert "2026-11-21: waiting for landing/2026-11-21.csv until 2026-11-22T06:00:00+00:00" in table
    (row,) = checked(project.run("--status", "--json", "--now=2026-11-22T01:00:00Z").stdout, "status")["intervals"]
    assert row == {"key": "2026-11-21", "start": "2026-11-21T00:00:00+00:00", "end": "2026-11-22T00:00:00+00:00",
                   "state": "waiting", "attempts": 0, "error": "waiting for landing/2026-11-21.csv",
                   "steps": {"report/$[DATE].csv": "waiting"}, "waiting_for": ["landing/2026-11-21.csv"],
                   "wait_until": "2026-11-22T06:00:00+00:00", "sla_missed": False}


def test_the_input_arrives_and_the_next_tick_builds_the_interval(project):
    project.workflow(LANDING)
    r = project.run("--once", "--now=2026-11-22T01:00:00Z")
    assert r.returncode == 0 and "interval 2026-11-21: waiting for landing/2026-11-21.csv" in r.stderr
    project.write("landing/2026-11-21.csv", "a\n")
    r = project.run("--once", "--now=2026-11-22T02:00:00Z")
    assert r.returncode == 0 and "interval 2026-11-21: success (1 step(s) ran)" in r.stderr
    assert project.read("report/2026-11-21.csv") == "a\n"


def test_the_wait_runs_out_the_interval_fails_with_the_message_and_the_hook_fires_once(project):
    project.workflow(LANDING)
    assert project.run("--once", "--now=2026-11-22T01:00:00Z", *HOOK).returncode == 0
    r = project.run("--once", "--now=2026-11-22T06:00:00Z", *HOOK)
    assert r.returncode == 1
    assert "interval 2026-11-21: failed (input never arrived: landing/2026-11-21.csv (waited 6h))" in r.stderr
    assert r.stderr.strip().splitlines()[-1] == "datamake: error: 1 interval(s) failed: 2026-11-21"
    again = project.run("--once", "--now=2026-11-22T07:00:00Z", *HOOK)
    assert again.returncode == 0, again.stderr
    assert project.read("hooks").splitlines() == [
        "2026-11-21|failed|report/2026-11-21.csv|input never arrived: landing/2026-11-21.csv (waited 6h)"]
    status = checked(project.run("--status", "--json", "--now=2026-11-22T07:00:00Z").stdout, "status")["intervals"]
    assert [(i["key"], i["state"], i["error"]) for i in status] == [
        ("2026-11-21", "failed", "input never arrived: landing/2026-11-21.csv (waited 6h)")]
    project.write("landing/2026-11-21.csv", "late but here\n")  # arrives after all: built on the next tick
    assert project.run("--once", "--now=2026-11-22T08:00:00Z", *HOOK).returncode == 0
    assert project.read("report/2026-11-21.csv") == "late but here\n"


def test_a_step_wait_option_wins_over_the_schedule_default(project):
    project.workflow(LANDING.replace("<- landing/$[DATE].csv", "<- landing/$[DATE].csv [wait:30m]"))
    r = project.run("--once", "--now=2026-11-22T00:31:00Z", *HOOK)
    assert "input never arrived: landing/2026-11-21.csv (waited 30m)" in r.stderr and r.returncode == 1


def test_a_missing_shared_input_is_still_an_error_and_a_plain_build_keeps_missing_input(project):
    project.workflow("""
        report/$[DATE].csv <- landing/$[DATE].csv
          cp $INPUT $OUTPUT
    """)
    r = project.run("--var", "DATE=2026-11-21", "report/2026-11-21.csv")
    assert r.returncode == 2
    assert r.stderr.startswith("datamake: error: missing input: landing/2026-11-21.csv (needed by step")
    project.workflow("""
        all.csv <- users.csv
          cp $INPUT $OUTPUT
        report/$[DATE].csv <- all.csv
          cp $INPUT $OUTPUT
    """)
    r = project.run("--date", "2026-11-21", "--now=2026-11-22T01:00:00Z")
    assert r.returncode == 2 and "datamake: error: missing input: users.csv" in r.stderr


def test_max_active_2_builds_the_others_while_one_interval_waits(project):
    project.workflow("""
        %schedule daily start:2026-11-20 wait:3d

        report/$[DATE].csv <- landing/$[DATE].csv
          sleep 0.5
          cp $INPUT $OUTPUT
    """)
    for day in ("20", "22", "23"):
        project.write(f"landing/2026-11-{day}.csv", f"{day}\n")
    r = project.run("--once", "--max-active", "2", "--now=2026-11-24T01:00:00Z", "--json")
    assert r.returncode == 0, r.stderr
    outcomes = {i["key"]: i["status"] for i in checked(r.stdout, "schedule")["intervals"]}
    assert outcomes == {"2026-11-20": "success", "2026-11-21": "waiting", "2026-11-22": "success",
                        "2026-11-23": "success"}
    assert all(project.exists(f"report/2026-11-{day}.csv") for day in ("20", "22", "23"))


def test_the_long_running_runner_waits_pokes_builds_and_survives_a_timed_out_wait(project):
    # Waits are counted from each interval's end: 2026-11-22's runs out 2 s after --now, 2026-11-23's a day later.
    project.workflow("""
        report/$[DATE].csv <- landing/$[DATE].csv [wait:86402s poke:0.2s]
          cp $INPUT $OUTPUT
    """)
    runner = start_runner(project, "--schedule", "daily", "--start", "2026-11-22", "--now=2026-11-24T00:00:00Z",
                          *HOOK)
    try:
        deadline = time.monotonic() + 20
        while not project.exists("hooks"):
            assert time.monotonic() < deadline and runner.poll() is None
            time.sleep(0.1)
        project.write("landing/2026-11-23.csv", "here\n")
        wait_for(project, "report/2026-11-23.csv")
        assert runner.poll() is None
    finally:
        runner.send_signal(signal.SIGTERM)
        _, err = runner.communicate(timeout=20)
    assert project.read("hooks").splitlines() == [
        "2026-11-22|failed|report/2026-11-22.csv|input never arrived: landing/2026-11-22.csv (waited 86402s)"]
    assert err.count("interval 2026-11-23: waiting for landing/2026-11-23.csv") == 1
    assert "looking again in 0.2s" in err and "interval 2026-11-23: success (1 step(s) ran)" in err


def test_an_s3_input_waits_until_its_object_is_put(project, bucket):
    project.workflow("""
        %schedule daily start:2026-11-21

        report/$[DATE].csv <- s3://$[BUCKET]/landing/$[DATE].csv
          cat $INPUT > $OUTPUT
    """.replace("cat $INPUT", "python3 -c 'import sys, s3fs; sys.stdout.write(s3fs.S3FileSystem().cat_file(sys.argv[1]).decode())' $INPUT"))
    args = ("--var", f"BUCKET={bucket.name}", "--once", "--now=2026-11-22T01:00:00Z")
    r = project.run(*args, env=bucket.env)
    assert r.returncode == 0, r.stderr
    assert f"interval 2026-11-21: waiting for s3://{bucket.name}/landing/2026-11-21.csv" in r.stderr
    bucket.put("landing/2026-11-21.csv", "from s3\n")
    r = project.run(*args, env=bucket.env)
    assert r.returncode == 0, r.stderr
    assert project.read("report/2026-11-21.csv") == "from s3\n"

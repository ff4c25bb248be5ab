"""Scheduled runs like plain ones: --json, --executor dask, a corrupt state database, signals with --max-active."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from jsonkit import checked, interval_counts

NOW = "--now=2026-11-24T10:00:00Z"

FLAKY = """
    raw/$[DATE].json <-
      echo raw > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json
      if [ "$DATE" = 2026-11-22 ]; then echo "no data for $DATE" >&2; exit 1; fi
      cp $INPUT $OUTPUT
"""


def test_json_prints_one_object_for_the_whole_schedule_run(project):
    project.workflow(FLAKY)
    r = project.run("--from", "2026-11-21", "--to", "2026-11-22", "--json", NOW)
    assert r.returncode == 1
    data = checked(r.stdout, "schedule")
    assert interval_counts(data) == [
        {"key": "2026-11-21", "status": "success", "ran": [0, 1], "failed": [], "skipped": []},
        {"key": "2026-11-22", "status": "failed", "ran": [0], "failed": [1], "skipped": []},
    ]
    raw, report = data["intervals"][1]["steps"]
    assert (raw["interval"], raw["outputs"], raw["outcome"]) == ("2026-11-22", ["raw/2026-11-22.json"], "success")
    assert (report["outcome"], report["exit"], report["reason"]) == ("failed", 1, "missing output")
    assert report["log"].endswith(".log")
    again = project.run("--schedule", "daily", "--once", "--json", NOW)
    assert again.returncode == 0
    # The failed interval was reported once and stays failed until --rerun failed.
    assert interval_counts(checked(again.stdout, "schedule")) == [
        {"key": "2026-11-23", "status": "success", "ran": [0, 1], "failed": [], "skipped": []},
    ]
    retried = project.run("--schedule", "daily", "--once", "--json", "--rerun", "failed", NOW)
    assert retried.returncode == 1
    # Its download is done and not redone.
    assert interval_counts(checked(retried.stdout, "schedule")) == [
        {"key": "2026-11-22", "status": "failed", "ran": [], "failed": [1], "skipped": []}]
    nothing = project.run("--date", "2026-11-21", "--json", NOW)
    assert interval_counts(checked(nothing.stdout, "schedule")) == [
        {"key": "2026-11-21", "status": "success", "ran": [], "failed": [], "skipped": []}]


def test_each_interval_runs_on_the_dask_executor(project):
    project.workflow("""
        out/$[DATE].txt <-
          tr '\\0' ' ' < /proc/$PPID/cmdline > $OUTPUT
          echo "$DATE" >> runs
    """)
    r = project.run("--executor", "dask", "--from", "2026-11-21", "--to", "2026-11-22", "--json", NOW, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [i["status"] for i in checked(r.stdout, "schedule")["intervals"]] == ["success", "success"]
    assert project.read("runs").split() == ["2026-11-21", "2026-11-22"]
    # Steps ran under Dask's worker processes, not under the runner.
    parents = [project.read(f"out/2026-11-2{d}.txt") for d in (1, 2)]
    assert all("datamake" not in p and "python" in p for p in parents), parents


def test_a_corrupt_state_database_is_set_aside_with_a_warning(project):
    project.workflow(FLAKY)
    project.write(".datamake/state.db", "this is not a database\n" * 100)
    r = project.run("--schedule", "daily", "--once", NOW)
    assert r.returncode == 0, r.stderr
    assert "datamake: warning: state database .datamake/state.db was unreadable; moved aside" in r.stderr
    assert project.exists("report/2026-11-23.csv")
    assert any(p.name.startswith("state.db.corrupt-") for p in (project.path / ".datamake").iterdir())
    status = project.run("--status", "--json", "--schedule", "daily", NOW)
    assert [i["state"] for i in checked(status.stdout, "status")["intervals"]] == ["success"]


def test_status_and_preview_read_a_corrupt_database_as_empty(project):
    project.workflow(FLAKY)
    project.write(".datamake/state.db", "garbage\n" * 100)
    for args in (("--status", "--schedule", "daily"), ("-P", "--schedule", "daily", "--once")):
        r = project.run(*args, NOW)
        assert r.returncode == 0, r.stderr
        assert "is unreadable" in r.stderr and "Traceback" not in r.stderr
    assert project.read(".datamake/state.db").startswith("garbage")


SLOW = """
    out/$[DATE].txt <-
      echo $$ > pids/$DATE
      echo "$DATE" >> started
      if [ ! -e fast ]; then echo half > $OUTPUT; sleep 30; fi
      echo "$DATE" > $OUTPUT
      echo "$DATE" >> finished
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_active_interval_cleanly_and_the_next_start_redoes_each_once(project, signum):
    project.workflow(SLOW)
    (project.path / "pids").mkdir()
    runner = subprocess.Popen([sys.executable, "-m", "datamake", "--from", "2026-11-20", "--to", "2026-11-22",
                               "--max-active", "3", NOW], cwd=project.path, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while len(os.listdir(project.path / "pids")) < 3:
            assert time.monotonic() < deadline, "the three intervals never all started"
            time.sleep(0.05)
        runner.send_signal(signum)
        _, err = runner.communicate(timeout=20)
    finally:
        runner.kill()
    assert runner.returncode == 128 + signum, err
    assert err.strip().splitlines()[-1] == f"datamake: error: interrupted by {signal.Signals(signum).name}"
    assert os.listdir(project.path / "out") == []  # neither targets nor temporaries
    assert not any(alive(int(p.read_text())) for p in (project.path / "pids").iterdir())
    status = checked(project.run("--status", "--json", "--schedule", "daily", NOW).stdout, "status")
    assert {i["key"]: i["state"] for i in status["intervals"]} == {
        "2026-11-20": "interrupted", "2026-11-21": "interrupted", "2026-11-22": "interrupted",
        "2026-11-23": "missing"}

    project.write("fast")
    r = project.run("--schedule", "daily", "--once", "--max-active", "3", NOW)
    assert r.returncode == 0, r.stderr
    assert sorted(project.read("finished").split()) == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert project.run("--schedule", "daily", "--once", NOW).stderr.strip() == "nothing due"


def test_intervals_built_at_once_build_their_shared_step_once(project):
    project.workflow("""
        users.csv <- users.src
          echo built >> shared-runs
          sleep 0.2
          cp $INPUT $OUTPUT

        raw/$[DATE].json <- users.csv
          sleep 0.$((RANDOM % 3))
          cp $INPUT $OUTPUT

        report/$[DATE].csv <- raw/$[DATE].json, users.csv
          cat $INPUTS > $OUTPUT
    """)
    project.write("users.src", "alice\n")
    r = project.run("--check", "hash", "--max-active", "4", "--from", "2026-11-01", "--to", "2026-11-08", "--json", NOW)
    assert r.returncode == 0, r.stderr
    assert [i["status"] for i in checked(r.stdout, "schedule")["intervals"]] == ["success"] * 8
    assert project.read("shared-runs").split() == ["built"]
    assert all(project.read(f"report/2026-11-0{d}.csv") == "alice\nalice\n" for d in range(1, 9))

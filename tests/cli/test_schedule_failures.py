"""The schedule runner when things go wrong: retries, hooks, timeouts, a killed runner, two runners."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT

NOW = "--now=2026-11-24T10:00:00Z"
HOOKS = ("--on-failure", 'echo "$DATAMAKE_DATE|$DATAMAKE_STATUS|$DATAMAKE_STEP|$DATAMAKE_ERROR|$DATAMAKE_LOG" >> hooks',
         "--on-success", 'echo "$DATAMAKE_DATE|$DATAMAKE_STATUS" >> hooks')


def test_a_failing_interval_is_retried_while_the_others_are_built_then_hooks_fire_once(project):
    project.workflow("""
        out/$[DATE].txt <- [retries:2 retry-delay:0.2s]
          echo "$DATE" >> runs
          if [ "$DATE" = 2026-11-22 ]; then echo "upstream is down" >&2; exit 3; fi
          echo ok > $OUTPUT
    """)
    r = project.run("--schedule", "daily", "--once", "--start", "2026-11-21", NOW, *HOOKS)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == "datamake: error: 1 interval(s) failed: 2026-11-22"
    # The retry waits with backoff while 2026-11-23 is built.
    assert project.read("runs").split() == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-22", "2026-11-22"]
    hooks = project.read("hooks").splitlines()
    assert hooks[:2] == ["2026-11-21|success", "2026-11-23|success"]
    date, status, step, error, log = hooks[2].split("|")
    assert (date, status, step, error) == ("2026-11-22", "failed", "out/2026-11-22.txt", "out/2026-11-22.txt: exit 3")
    assert "upstream is down" in open(log).read()
    assert len(hooks) == 3
    assert "retry 1 of 2 in 0.2s" in r.stderr and "retry 2 of 2 in 0.4s" in r.stderr


def test_a_step_timeout_fails_its_interval(project):
    project.workflow("""
        out/$[DATE].txt <- [timeout:1s]
          sleep 30
          echo late > $OUTPUT
    """)
    started = time.monotonic()
    r = project.run("--date", "2026-11-23", NOW, *HOOKS)
    assert r.returncode == 1 and time.monotonic() - started < 20
    assert not project.exists("out/2026-11-23.txt")
    assert project.read("hooks").startswith("2026-11-23|failed|out/2026-11-23.txt|out/2026-11-23.txt: timed out")


def start_runner(project, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "datamake", *args], cwd=project.path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(project, name, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not project.exists(name):
        assert time.monotonic() < deadline, f"{name} never appeared"
        time.sleep(0.05)


SLOW = """
    out/$[DATE].txt <-
      echo $$ > step.pid
      echo "$DATE" >> started
      sleep 30
      echo "$DATE" > $OUTPUT
      echo "$DATE" >> finished
"""


def test_a_killed_runner_leaves_no_partial_target_and_the_restart_builds_it_once(project):
    project.workflow(SLOW.replace("sleep 30", 'if [ ! -e fast ]; then echo half > $OUTPUT; sleep 30; fi'))
    runner = start_runner(project, "--date", "2026-11-23", NOW)
    try:
        wait_for(project, "step.pid")
        runner.send_signal(signal.SIGKILL)  # the runner alone, as a crash would: its step runs on
        runner.communicate(timeout=20)
        step = int(project.read("step.pid"))
        os.killpg(step, 0)  # still there
        assert not project.exists("out/2026-11-23.txt")
        project.write("fast")
        r = project.run("--schedule", "daily", "--once", NOW)
    finally:
        _kill_group_if_alive(int(project.read("step.pid")))
    assert r.returncode == 0, r.stderr
    assert (f"datamake: warning: stopped 1 step process group(s) left running by datamake pid {runner.pid}, "
            "which died; their steps will run again") in r.stderr
    assert "interval 2026-11-23: its runner stopped mid-build; building it again" in r.stderr
    assert _ended(int(project.read("step.pid")))
    assert project.read("out/2026-11-23.txt").strip() == "2026-11-23"
    assert project.read("finished").split() == ["2026-11-23"]
    again = project.run("--schedule", "daily", "--once", NOW)
    assert again.returncode == 0 and project.read("started").split() == ["2026-11-23", "2026-11-23"]


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _kill_group_if_alive(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_a_second_runner_on_the_same_state_dir_exits_2_but_a_tick_leaves_it_quietly(project):
    project.workflow(SLOW)
    first = start_runner(project, "--date", "2026-11-23", NOW)
    try:
        wait_for(project, "step.pid")
        second = project.run("--date", "2026-11-22", NOW)
        assert second.returncode == 2
        assert second.stderr.strip() == f"datamake: error: another datamake (pid {first.pid}) holds .datamake/lock"
        tick = project.run("--schedule", "daily", "--once", NOW)
        assert tick.returncode == 0
        assert tick.stderr.strip() == (f"datamake: another datamake (pid {first.pid}) holds .datamake/lock; an earlier "
                                       "run of this schedule is still working, so this tick has nothing to do")
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)
    assert first.returncode == 143
    assert not project.exists("out/2026-11-23.txt")

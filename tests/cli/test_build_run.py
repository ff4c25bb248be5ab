"""Running steps: atomic outputs, failures, timeouts, retries, signals, the lock, -j, confirmation."""
import os
import signal
import subprocess
import sys
import time

import pytest

from datamake.build.lock import acquire_lock
from datamake.store.statedb import StateStore
from conftest import ROOT
from jsonkit import checked, counts


def temps(project):
    return [p.name for p in project.path.rglob("*datamake-tmp*")]


def last_json(done):
    return counts(checked(done.stdout, "build"))


def test_failed_step_keeps_the_old_target_and_leaves_no_temporaries(project):
    project.workflow("""\
        out.csv <- in.csv
          echo partial > $OUTPUT
          exit 3
        """)
    project.write("in.csv", "new\n")
    project.write("out.csv", "old\n")
    os.utime(project.path / "out.csv", (1, 1))
    done = project.run()
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("datamake: error: step failed: out.csv (")
    assert project.read("out.csv") == "old\n"
    assert temps(project) == []


def test_outputs_point_at_temporaries_unless_atomic_is_off(project):
    project.workflow("""\
        sub/a.csv <-
          echo $OUTPUT > $OUTPUT
        b.csv <- [-atomic]
          echo $OUTPUT > $OUTPUT
        """)
    assert project.run().returncode == 0
    assert project.read("sub/a.csv") == "sub/.a.datamake-tmp.csv\n"
    assert project.read("b.csv") == "b.csv\n"
    assert list((project.path / ".datamake" / "logs").iterdir()) == []  # neither step printed: no log file


def test_a_step_must_create_its_outputs(project):
    project.workflow("""\
        a.csv, b.csv <-
          echo a > $OUTPUT0
        """)
    done = project.run()
    assert done.returncode == 1
    assert "step did not create its output: b.csv" in done.stderr
    assert not project.exists("a.csv") and temps(project) == []


def test_dependants_of_a_failure_are_skipped_and_others_continue(project):
    project.workflow("""\
        bad.csv <-
          exit 1
        after.csv <- bad.csv
          cat $INPUT > $OUTPUT
        good.csv <-
          echo good > $OUTPUT
        """)
    done = project.run("--json")
    assert done.returncode == 1
    assert last_json(done) == {"ran": [2], "failed": [0], "skipped": [1]}
    assert project.read("good.csv") == "good\n"
    failfast = project.run("--json", "--fail-fast")
    assert last_json(failfast) == {"ran": [], "failed": [0], "skipped": [1, 2]}


def test_every_failure_is_listed(project):
    project.workflow("""\
        a.csv <-
          exit 1
        b.csv <-
          exit 2
        """)
    done = project.run()
    assert done.returncode == 1
    assert "datamake: error: 2 steps failed: a.csv (" in done.stderr and "), b.csv (" in done.stderr


def test_timeout_kills_the_step(project):
    project.workflow("""\
        slow.csv <- [timeout:0.5s]
          echo partial > $OUTPUT
          sleep 30
        """)
    start = time.monotonic()
    done = project.run()
    assert time.monotonic() - start < 15
    assert done.returncode == 1
    assert "timed out" in done.stderr
    assert not project.exists("slow.csv") and temps(project) == []


def test_retries_with_backoff(project):
    project.workflow("""\
        flaky.csv <- [retries:2 retry-delay:0.05s]
          echo try >> tries.log
          [ "$(wc -l < tries.log)" -ge 3 ]
          echo ok > $OUTPUT
        """)
    done = project.run()
    assert done.returncode == 0, done.stderr
    assert project.read("tries.log") == "try\ntry\ntry\n"
    assert project.read("flaky.csv") == "ok\n"


def test_parallel_jobs_overlap(project):
    body = ("{me}.csv <-\n"
            "  touch {me}.started\n"
            "  for i in $(seq 200); do [ -f {other}.started ] && break; sleep 0.05; done\n"
            "  [ -f {other}.started ] && echo overlapped > $OUTPUT\n")
    project.workflow(body.format(me="a", other="b") + body.format(me="b", other="a"))
    done = project.run("-j", "2")
    assert done.returncode == 0, done.stderr
    assert project.read("a.csv") == project.read("b.csv") == "overlapped\n"


def test_confirm_needs_a_terminal_or_auto(project):
    project.workflow("""\
        careful.csv <- [+confirm]
          echo yes > $OUTPUT
        """)
    done = project.run()
    assert done.returncode == 1
    assert "step needs confirmation: rerun with -a" in done.stderr
    assert project.run("-a").returncode == 0 and project.read("careful.csv") == "yes\n"


def test_a_second_datamake_is_refused_while_the_lock_is_held(project):
    project.workflow("""\
        out.csv <-
          echo 1 > $OUTPUT
        """)
    with acquire_lock(str(project.path / ".datamake")):
        done = project.run()
    assert done.returncode == 2
    assert done.stderr == f"datamake: error: another datamake (pid {os.getpid()}) holds .datamake/lock\n"
    assert not project.exists("out.csv")


def test_a_corrupt_state_database_warns_and_rebuilds(project):
    project.workflow("""\
        out.csv <-
          echo 1 > $OUTPUT
        """)
    project.write(".datamake/state.db", "this is not sqlite" * 100)
    done = project.run()
    assert done.returncode == 0
    assert "datamake: warning: state database" in done.stderr
    assert project.read("out.csv") == "1\n"


def start_when(project, name: str) -> subprocess.Popen:
    """Start `datamake` in the background; return once its step has written `name`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "datamake"], cwd=project.path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not project.exists(name) and time.monotonic() < deadline:
        time.sleep(0.02)
    return proc


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_cleans_and_keeps_the_old_target(project, signum, code):
    project.workflow("""\
        out.csv <- in.csv
          echo partial > $OUTPUT
          touch started
          sleep 30
        """)
    project.write("in.csv", "new\n")
    project.write("out.csv", "old\n")
    os.utime(project.path / "out.csv", (1, 1))
    proc = start_when(project, "started")
    try:
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code
    assert "interrupted" in err and "Traceback" not in err
    assert project.read("out.csv") == "old\n"
    assert temps(project) == []
    assert project.exists("started")
    assert not project.exists(".datamake/lock") or project.read(".datamake/lock") == ""
    store = StateStore.open(str(project.path / ".datamake"))
    try:
        assert [a.outcome for a in store.last_run_attempts()] == ["interrupted"]
    finally:
        store.close()


def test_steps_of_a_runner_killed_outright_are_stopped_by_the_next_run(project):
    project.workflow("""\
        out.csv <- in.csv
          echo $$ > step.pid
          echo partial > $OUTPUT
          if [ ! -e fast ]; then sleep 30; fi
          echo done >> $OUTPUT
          echo ran >> runs
        """)
    project.write("in.csv", "new\n")
    proc = start_when(project, "step.pid")
    try:
        proc.send_signal(signal.SIGKILL)  # no chance to stop its step, which runs on
        proc.communicate(timeout=20)
        step = int(project.read("step.pid"))
        os.killpg(step, 0)
        project.write("fast")
        r = project.run()
    finally:
        try:
            os.killpg(int(project.read("step.pid")), signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert r.returncode == 0, r.stderr
    assert f"stopped 1 step process group(s) left running by datamake pid {proc.pid}, which died" in r.stderr
    assert project.read("out.csv") == "partial\ndone\n"
    assert project.read("runs") == "ran\n"
    assert temps(project) == []
    assert project.run().stdout == "Nothing to do.\n"

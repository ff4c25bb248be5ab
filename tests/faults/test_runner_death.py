"""A schedule runner that died: its leftover records never block the next runner, nor make it redo work."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT
from datamake.store.intervals import ScheduleState

DAILY = """\
    %schedule daily
    out/$[DATE].txt <-
      echo $[DATE] > $OUTPUT
    """


def test_a_leftover_running_interval_whose_pid_was_reused_is_built_again(project):
    project.workflow(DAILY)
    state = ScheduleState(str(project.path / ".datamake"), str(project.path / "Drakefile"))
    # The runner that claimed it died; its pid now belongs to a live, unrelated process (this one).
    state.claim("2026-11-20", "2026-11-20T00:00:00+00:00", "2026-11-21T00:00:00+00:00", os.getpid(), None)
    state.close()
    done = project.run("--date", "2026-11-20", timeout=30)
    assert done.returncode == 0, done.stderr
    assert "another runner" not in done.stderr
    assert "interval 2026-11-20: its runner stopped mid-build; building it again" in done.stderr
    assert project.read("out/2026-11-20.txt") == "2026-11-20\n"
    again = ScheduleState(str(project.path / ".datamake"), str(project.path / "Drakefile"))
    assert [a.state for a in again.attempts("2026-11-20")] == ["interrupted", "success"]
    again.close()


INGEST = """\
    %schedule daily
    raw/$[DATE].json <-
      echo data > $OUTPUT
      echo fetch >> completed.log
    report/$[DATE].csv <- raw/$[DATE].json
      if [ -e hold ]; then echo $$ > holding; sleep 30; fi
      cp $INPUT $OUTPUT
      echo report >> completed.log
    """


def _wait_for(path, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def test_a_runner_killed_mid_interval_never_reruns_the_step_that_succeeded(project):
    project.workflow(INGEST)
    project.write("hold")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runner = subprocess.Popen([sys.executable, "-m", "datamake", "--date", "2026-11-20"], cwd=project.path,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    step_group = None
    try:
        _wait_for(project.path / "holding")  # the ingestion step is done, the report step is running
        step_group = int(project.read("holding"))
        runner.kill()  # kill -9: no cleanup, no records written at the interval's end
        runner.wait(10)
        (project.path / "hold").unlink()
        done = project.run("--date", "2026-11-20", timeout=30)
        assert done.returncode == 0, done.stderr
        assert project.read("report/2026-11-20.csv") == "data\n"
        assert project.read("completed.log").split() == ["fetch", "report"]  # fetched once, reported once
    finally:
        if runner.poll() is None:
            runner.kill()
        if step_group is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(step_group, signal.SIGKILL)

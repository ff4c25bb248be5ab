"""A schedule runner that died: its leftover records never block the next runner, nor make it redo work."""
from __future__ import annotations

import os

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

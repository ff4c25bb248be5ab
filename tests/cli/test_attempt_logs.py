"""One log file per step attempt, never overwritten, and attempt records that point at the right one."""
from __future__ import annotations

from datamake.store.statedb import StateStore

NOW = "--now=2026-11-24T10:00:00Z"


def attempts(project, interval=None):
    store = StateStore.open_readonly(str(project.path / ".datamake"))
    try:
        return store.step_attempts(interval)
    finally:
        store.close()


def test_three_attempts_of_an_interval_leave_three_logs_each_recorded(project):
    project.workflow("""
        out/$[DATE].txt <- [retries:2 retry-delay:0.1s]
          echo x >> tries
          echo "try $(wc -l < tries)" >&2
          [ "$(wc -l < tries)" -ge 3 ]
          echo ok > $OUTPUT
    """)
    r = project.run("--date", "2026-11-23", NOW)
    assert r.returncode == 0, r.stderr
    rows = attempts(project, "2026-11-23")
    assert [(a.step, a.attempt, a.outcome, a.exit_code) for a in rows] == [
        ("out/$[DATE].txt", 1, "failed", 1), ("out/$[DATE].txt", 2, "failed", 1),
        ("out/$[DATE].txt", 3, "success", 0)]
    logs = project.path / ".datamake" / "logs" / "2026-11-23"
    assert sorted(p.name for p in logs.iterdir()) == [f"out_DATE_.txt.{n}.log" for n in (1, 2, 3)]
    for n, row in enumerate(rows, 1):
        assert row.log_path == str(logs / f"out_DATE_.txt.{n}.log")
        assert open(row.log_path).read() == f"try {n}\n"
        assert (row.workflow, row.interval) == (str(project.path / "Drakefile"), "2026-11-23")


def test_a_later_run_of_the_same_interval_continues_the_numbering(project):
    project.workflow("""
        out/$[DATE].txt <-
          echo "run $RUN" >&2
          [ "$RUN" = 2 ]
          echo ok > $OUTPUT
    """)
    assert project.run("--date", "2026-11-23", NOW, env={"RUN": "1"}).returncode == 1
    assert project.run("--date", "2026-11-23", NOW, "--rerun", "failed", env={"RUN": "2"}).returncode == 0
    rows = attempts(project, "2026-11-23")
    assert [(a.attempt, a.outcome) for a in rows] == [(1, "failed"), (2, "success")]
    assert [open(a.log_path).read() for a in rows] == ["run 1\n", "run 2\n"]


def test_plain_builds_keep_each_runs_log(project):
    project.workflow("""
        out.txt <-
          echo "at $RUN"
          echo ok > $OUTPUT
    """)
    for run in ("1", "2"):
        assert project.run("+out.txt", env={"RUN": run}).returncode == 0
    rows = attempts(project, "")
    assert [(a.step, a.attempt, a.interval) for a in rows] == [("out.txt", 1, ""), ("out.txt", 2, "")]
    assert [open(a.log_path).read() for a in rows] == ["at 1\n", "at 2\n"]
    assert sorted(p.name for p in (project.path / ".datamake" / "logs").iterdir()) == ["out.txt.1.log", "out.txt.2.log"]


def test_a_log_left_without_its_record_is_never_overwritten(project):
    project.workflow("""
        out.txt <-
          echo fresh
          echo ok > $OUTPUT
    """)
    project.write(".datamake/logs/out.txt.1.log", "from a pruned history\n")
    assert project.run().returncode == 0
    (row,) = attempts(project, "")
    assert row.attempt == 2 and open(row.log_path).read() == "fresh\n"
    assert project.read(".datamake/logs/out.txt.1.log") == "from a pruned history\n"


def test_the_interval_attempt_points_at_the_failed_steps_log(project):
    from datamake.store.intervals import ScheduleState

    project.workflow("""
        out/$[DATE].txt <-
          echo "broken" >&2; exit 4
    """)
    assert project.run("--date", "2026-11-23", NOW).returncode == 1
    state = ScheduleState(str(project.path / ".datamake"), str(project.path / "Drakefile"), readonly=True)
    (attempt,) = state.attempts("2026-11-23")
    state.close()
    assert open(attempt.log_path).read() == "broken\n"

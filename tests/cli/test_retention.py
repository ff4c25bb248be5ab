"""Retention: a run with keep:90d (or --keep) prunes old run history and logs and keeps recent ones."""
from __future__ import annotations

import os
import sqlite3
import time

from datamake.store.statedb import StateStore

DAY = 86400.0


def age_everything(project, days: float) -> None:
    """Make the history so far look `days` old: run and attempt times, log file times."""
    state = project.path / ".datamake"
    db = sqlite3.connect(state / "state.db")
    with db:
        db.execute("UPDATE runs SET started = started - ?, finished = finished - ?", (days * DAY, days * DAY))
        db.execute("UPDATE schedule_attempts SET started_at = '2026-01-01T00:00:00+00:00'")
    db.close()
    old = time.time() - days * DAY
    for log in (state / "logs").rglob("*.log"):
        os.utime(log, (old, old))


def test_a_retention_run_removes_old_history_and_logs_and_keeps_recent_ones(project):
    project.workflow("""
        %schedule daily keep:90d
        out/$[DATE].txt <-
          echo "built $DATE"
          echo ok > $OUTPUT
    """)
    assert project.run("--date", "2026-08-01", "--now=2026-11-24T10:00:00Z").returncode == 0
    age_everything(project, 100)
    r = project.run("--date", "2026-11-23", "--now=2026-11-24T10:00:00Z")
    assert r.returncode == 0, r.stderr
    assert "datamake: history older than 90d pruned: 1 run(s), 1 step attempt(s), 1 log file(s)" in r.stderr
    logs = project.path / ".datamake" / "logs"
    assert sorted(str(p.relative_to(logs)) for p in logs.rglob("*.log")) == ["2026-11-23/out_DATE_.txt.1.log"]
    store = StateStore.open_readonly(str(project.path / ".datamake"))
    try:
        assert [a.interval for a in store.step_attempts()] == ["2026-11-23"]
    finally:
        store.close()
    # The old interval's own record stays: it is still done, and not built again.
    again = project.run("--schedule", "daily", "--once", "--start", "2026-08-01", "--now=2026-08-02T10:00:00Z")
    assert again.returncode == 0 and "nothing due" in again.stderr


def test_keep_on_a_plain_build(project):
    project.workflow("""
        out.txt <-
          echo making out.txt
          echo ok > $OUTPUT
    """)
    assert project.run().returncode == 0
    age_everything(project, 10)
    r = project.run("+out.txt", "--keep", "7d")
    assert r.returncode == 0
    assert "pruned: 1 run(s), 1 step attempt(s), 1 log file(s)" in r.stderr
    assert [p.name for p in (project.path / ".datamake" / "logs").iterdir()] == ["out.txt.2.log"]


def test_opening_a_year_of_history_stays_cheap(tmp_path):
    store = StateStore.open(str(tmp_path))
    with store.db:
        for day in range(100):
            run = store.db.execute("INSERT INTO runs (started, status, argv) VALUES (?, 'success', '[]')",
                                   (day * DAY,)).lastrowid
            store.db.executemany(
                "INSERT INTO attempts (run_id, key, step_index, label, outcome, log_path, interval, step, attempt) "
                "VALUES (?, ?, ?, ?, 'success', ?, ?, ?, 1)",
                [(run, f"/p/out/{i}/{day}.csv", i, f"out/{i}/{day}.csv", f"/p/.datamake/logs/{day}/o{i}.1.log",
                  str(day), f"out/{i}/$[DATE].csv") for i in range(1300)])
    store.close()
    started = time.perf_counter()
    StateStore.open(str(tmp_path)).close()
    assert time.perf_counter() - started < 0.2  # the history table is not scanned at open (~2 ms here)

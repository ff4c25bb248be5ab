"""Interval and attempt records in the state database: claims, outcomes, recovery after a dead runner."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from datamake.store.intervals import ScheduleState


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_claim_finish_and_step_outcomes_are_recorded(tmp_path):
    state = ScheduleState(str(tmp_path / ".datamake"), "/w/Drakefile")
    first = state.claim("2026-11-23", "2026-11-23T00:00:00+00:00", "2026-11-24T00:00:00+00:00", os.getpid(), "log1")
    state.finish(first, "2026-11-23", "retry", error="step failed", next_attempt_at="2026-11-24T00:00:01+00:00",
                 steps={"raw.json": "success", "report.csv": "failed"})
    second = state.claim("2026-11-23", "2026-11-23T00:00:00+00:00", "2026-11-24T00:00:00+00:00", os.getpid(), "log2")
    state.finish(second, "2026-11-23", "success", steps={"report.csv": "success"})
    record = state.get("2026-11-23")
    assert (record.state, record.attempts, record.error) == ("success", 2, None)
    assert [(a.attempt, a.state, a.error, a.log_path) for a in state.attempts("2026-11-23")] == [
        (1, "failed", "step failed", "log1"), (2, "success", None, "log2")]
    assert state.steps() == {"2026-11-23": {"raw.json": "success", "report.csv": "success"}}
    # The tables live in the shared state database, in WAL mode.
    db = sqlite3.connect(tmp_path / ".datamake" / "state.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT COUNT(*) FROM schedule_attempts").fetchone()[0] == 2


def test_a_live_runner_keeps_its_claim(tmp_path):
    state = ScheduleState(str(tmp_path), "wf")
    assert state.claim("k", "s", "e", os.getpid(), None) is not None
    other = ScheduleState(str(tmp_path), "wf")
    assert other.claim("k", "s", "e", os.getpid(), None) is None
    assert other.recover() == []


def test_a_dead_runners_interval_becomes_interrupted_and_is_claimed_once(tmp_path):
    state = ScheduleState(str(tmp_path), "wf")
    state.claim("2026-11-22", "a", "b", dead_pid(), None)
    state.close()
    restarted = ScheduleState(str(tmp_path), "wf")
    assert restarted.recover() == ["2026-11-22"]
    assert restarted.get("2026-11-22").state == "interrupted"
    assert restarted.attempts()[0].state == "interrupted"
    assert restarted.recover() == []
    assert restarted.claim("2026-11-22", "a", "b", os.getpid(), None) is not None
    assert restarted.claim("2026-11-22", "a", "b", os.getpid(), None) is None
    assert restarted.get("2026-11-22").attempts == 2


def test_workflows_sharing_a_state_dir_keep_separate_records(tmp_path):
    a, b = ScheduleState(str(tmp_path), "a"), ScheduleState(str(tmp_path), "b")
    a.finish(a.claim("k", "2026-01-01", "e", os.getpid(), None), "k", "success")
    assert b.intervals() == {}
    assert [r.start for r in a.intervals().values()] == ["2026-01-01"]

"""One migration list for the whole state.db: databases of earlier versions open at the current one, records kept.

data/release-state.db was written by the first release (schema version 1, its schedule tables made
outside the version count) with data/make_release_state.sh: a plain build with one step that
failed, and a daily schedule of three intervals, the second failed.
"""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from datamake.store import schema
from datamake.store.intervals import ScheduleState
from datamake.store.statedb import StateStore

RELEASE_DB = Path(__file__).parent / "data" / "release-state.db"
PROJECT = "/tmp/datamake-release-state"  # where the release built it: its records name these paths
DAILY = f"{PROJECT}/daily.drake"


@pytest.fixture
def state_dir(tmp_path):
    state = tmp_path / ".datamake"
    state.mkdir()
    shutil.copy(RELEASE_DB, state / "state.db")
    return str(state)


def user_version(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def check_release_records(store: StateStore, schedule: ScheduleState) -> None:
    successes = store.load_successes()
    assert sorted(successes) == [f"{PROJECT}/day/2026-11-01.csv", f"{PROJECT}/day/2026-11-03.csv", f"{PROJECT}/out/a.csv"]
    assert successes[f"{PROJECT}/out/a.csv"].inputs == {f"{PROJECT}/in.csv": "xxh3:94a8da0a6bdcfac86dd56f762745f0f8"}
    assert store.last_outcomes() == {f"{PROJECT}/out/a.csv": "success", f"{PROJECT}/out/b.csv": "failed",
                                     f"{PROJECT}/day/2026-11-01.csv": "success",
                                     f"{PROJECT}/day/2026-11-02.csv": "failed",
                                     f"{PROJECT}/day/2026-11-03.csv": "success"}
    (last,) = store.last_run_attempts()
    assert (last.label, last.outcome, last.run_id, last.interval) == ("day/2026-11-03.csv", "success", 4, "")
    assert store.get_hash(f"{PROJECT}/in.csv", 4, 1796212188401123445, 2166141) == \
        "xxh3:94a8da0a6bdcfac86dd56f762745f0f8"
    intervals = schedule.intervals()
    assert {key: rec.state for key, rec in intervals.items()} == \
        {"2026-11-01": "success", "2026-11-02": "failed", "2026-11-03": "success"}
    assert intervals["2026-11-02"].error == "day/2026-11-02.csv: exit 4"
    assert intervals["2026-11-02"].waiting_for == () and intervals["2026-11-02"].wait_until is None
    assert [(a.key, a.attempt, a.state) for a in schedule.attempts()] == \
        [("2026-11-01", 1, "success"), ("2026-11-02", 1, "failed"), ("2026-11-03", 1, "success")]
    assert schedule.steps("2026-11-02") == {"2026-11-02": {"day/$[DATE].csv": "failed"}}


def test_a_database_of_the_first_release_opens_migrated_and_keeps_its_records(state_dir):
    assert user_version(RELEASE_DB) == 1 < schema.SCHEMA_VERSION
    store = StateStore.open(state_dir)
    schedule = ScheduleState(state_dir, DAILY)
    try:
        assert store.warnings == []
        check_release_records(store, schedule)
    finally:
        store.close()
        schedule.close()
    assert user_version(Path(state_dir) / "state.db") == schema.SCHEMA_VERSION


def test_the_migrated_database_takes_new_records_beside_the_old(state_dir):
    store = StateStore.open(state_dir)
    schedule = ScheduleState(state_dir, DAILY)
    try:
        run = store.begin_run(["again"])
        store.record_attempt(run, f"{PROJECT}/out/b.csv", 1, "out/b.csv", "success", 1.0, 2.0, None, "forced")
        schedule.mark("2026-11-04", "2026-11-04T00:00:00+00:00", "2026-11-05T00:00:00+00:00", "waiting",
                      waiting_for=["in/2026-11-04.csv"], wait_until="2026-11-05T06:00:00+00:00")
        assert store.last_outcomes()[f"{PROJECT}/out/b.csv"] == "success"
        assert schedule.get("2026-11-04").waiting_for == ("in/2026-11-04.csv",)
        assert schedule.get("2026-11-02").state == "failed"
    finally:
        store.close()
        schedule.close()


def test_a_read_only_look_at_a_release_database_sees_its_records_and_changes_nothing(state_dir):
    before = (Path(state_dir) / "state.db").read_bytes()
    store = StateStore.open_readonly(state_dir)
    schedule = ScheduleState(state_dir, DAILY, readonly=True)
    try:
        assert store.warnings == [] and schedule.warnings == []
        check_release_records(store, schedule)
    finally:
        store.close()
        schedule.close()
    assert (Path(state_dir) / "state.db").read_bytes() == before
    assert sorted(p.name for p in Path(state_dir).iterdir()) == ["state.db"]


def test_schedule_tables_of_a_development_build_with_the_waiting_columns_are_kept(tmp_path):
    """A version-2 database whose schedule tables were made, waiting columns and all, outside the version count."""
    state = tmp_path / ".datamake"
    state.mkdir()
    db = sqlite3.connect(state / "state.db")
    for migration in schema.MIGRATIONS[:2]:
        db.executescript(migration)
    schema.MIGRATIONS[2](db)  # as the development build made them, before they had a version
    db.execute("INSERT INTO schedule_intervals (workflow, key, start, end, state, updated_at, waiting_for) "
               "VALUES ('wf', 'k', 's', 'e', 'waiting', 'now', '[\"in.csv\"]')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    schedule = ScheduleState(str(state), "wf")
    try:
        assert schedule.get("k").waiting_for == ("in.csv",)
    finally:
        schedule.close()
    assert user_version(state / "state.db") == schema.SCHEMA_VERSION


def test_every_version_migrates_to_the_current_one(tmp_path):
    for version in range(schema.SCHEMA_VERSION + 1):
        path = tmp_path / f"v{version}.db"
        db = sqlite3.connect(path)
        for migration in schema.MIGRATIONS[:version]:
            migration(db) if callable(migration) else db.executescript(migration)
        db.execute(f"PRAGMA user_version = {version}")
        db.commit()
        db.close()
        schema.connect(str(path)).close()
        assert user_version(path) == schema.SCHEMA_VERSION
        tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"successes", "runs", "attempts", "content_hashes", "schedule_intervals", "schedule_attempts",
                "schedule_steps"} <= tables

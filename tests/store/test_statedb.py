"""The state store on real SQLite files, and the state-directory lock between real processes."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datamake.errors import SourceLocation, UsageError
from datamake.model import Options, Step, Target
from datamake.build.lock import acquire_lock
from datamake.store.schema import SCHEMA_VERSION as STATE_SCHEMA_VERSION
from datamake.store.statedb import StateStore, step_key

ROOT = Path(__file__).resolve().parents[2]


def make_step(index: int, outputs=(), tags=()) -> Step:
    return Step(index=index, outputs=tuple(Target(o, o) for o in outputs), inputs=(), output_tags=tuple(tags),
                input_tags=(), options=Options(), body_parts=("true",), vars={}, workdir="/p",
                loc=SourceLocation("/p/Drakefile", 1, 1))


@pytest.fixture
def store(tmp_path):
    s = StateStore.open(str(tmp_path / ".datamake"))
    yield s
    s.close()


def test_open_creates_a_versioned_wal_database_and_the_logs_dir(tmp_path, store):
    state = tmp_path / ".datamake"
    assert (state / "state.db").is_file() and (state / "logs").is_dir()
    assert store.warnings == []
    db = sqlite3.connect(state / "state.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == STATE_SCHEMA_VERSION >= 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_step_keys_are_stable_names_not_positions():
    assert step_key(make_step(4, outputs=["/p/b.csv", "/p/a.csv"])) == step_key(make_step(9, ["/p/a.csv", "/p/b.csv"]))
    assert step_key(make_step(4, outputs=["/p/a.csv"])) != step_key(make_step(4, outputs=["/p/b.csv"]))
    assert step_key(make_step(2, tags=["%clean"])) == "%clean"
    assert step_key(make_step(7)) == "index:7"


def test_successes_round_trip_across_reopen(tmp_path, store):
    store.record_success("/p/a.csv", "cmd1", {"/p/in.csv": "xxh:1"}, {"/p/a.csv": "xxh:2"}, 10.0, 11.5)
    store.record_success("/p/a.csv", "cmd3", {"/p/in.csv": "xxh:9"}, {}, 20.0, 21.0)  # replaces
    store.close()
    again = StateStore.open(str(tmp_path / ".datamake"))
    records = again.load_successes()
    again.close()
    assert list(records) == ["/p/a.csv"]
    rec = records["/p/a.csv"]
    assert (rec.command_hash, rec.inputs, rec.outputs, rec.started, rec.finished) == \
        ("cmd3", {"/p/in.csv": "xxh:9"}, {}, 20.0, 21.0)


def test_twenty_thousand_successes_load_quickly(store):
    inputs = {f"/data/project/src/{i}.csv": "xxh3:0123456789abcdef" for i in range(3)}
    with store.db:
        store.db.executemany("INSERT INTO successes VALUES (?, ?, ?, ?, ?, ?)",
                             [(f"/data/out/{i}.csv", "c" * 16, repr(inputs).replace("'", '"'), "{}", 1.0, 2.0)
                              for i in range(20000)])
    statements = []
    store.db.set_trace_callback(statements.append)
    best = min(_timed(store.load_successes) for _ in range(3))
    store.db.set_trace_callback(None)
    assert len(statements) == 3  # one query per load, whatever the number of records
    assert best < 0.5  # ~40 ms on an idle machine; loose, as the suite shares its cores
    assert store.load_successes()["/data/out/7.csv"].inputs == inputs


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_runs_attempts_and_last_outcomes(tmp_path, store):
    first = store.begin_run(["-j", "2"])
    store.record_attempt(first, "/p/a.csv", 0, "a.csv", "failed", 1.0, 2.0, "/logs/a.1", "missing output", "exit 1")
    store.record_attempt(first, "/p/a.csv", 0, "a.csv", "success", 3.0, 4.0, "/logs/a.2", "missing output")
    store.record_attempt(first, "/p/b.csv", 1, "b.csv", "timeout", 3.0, 9.0, "/logs/b.1", "projected",
                         "timed out after 5s")
    store.end_run(first, "failed")
    second = store.begin_run(["b.csv"])
    store.record_attempt(second, "/p/b.csv", 1, "b.csv", "interrupted", 10.0, 11.0, "/logs/b.2", "timestamped")
    store.end_run(second, "interrupted")
    idle = store.begin_run([])  # nothing ran: the timeline still shows the last run that did something
    store.end_run(idle, "success")

    assert store.last_outcomes() == {"/p/a.csv": "success", "/p/b.csv": "interrupted"}
    (only,) = store.last_run_attempts()
    assert (only.run_id, only.key, only.step_index, only.label, only.outcome, only.reason) == \
        (second, "/p/b.csv", 1, "b.csv", "interrupted", "timestamped")
    db = sqlite3.connect(tmp_path / ".datamake" / "state.db")
    runs = db.execute("SELECT run_id, status, argv, finished IS NOT NULL FROM runs ORDER BY run_id").fetchall()
    db.close()
    assert runs == [(first, "failed", '["-j", "2"]', 1), (second, "interrupted", '["b.csv"]', 1),
                    (idle, "success", "[]", 1)]


def test_writes_survive_a_killed_process(tmp_path):
    state = tmp_path / ".datamake"
    code = ("import os, sys; from datamake.store.statedb import StateStore; s = StateStore.open(sys.argv[1]); "
            "r = s.begin_run(['x']); s.record_success('/p/a', 'h', {}, {}, 1.0, 2.0); "
            "s.record_attempt(r, '/p/a', 0, 'a', 'success', 1.0, 2.0, None, 'forced'); os._exit(9)")
    proc = subprocess.run([sys.executable, "-c", code, str(state)], env=_env(), capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    store = StateStore.open(str(state))
    try:
        assert list(store.load_successes()) == ["/p/a"] and store.last_outcomes() == {"/p/a": "success"}
    finally:
        store.close()


def test_content_hash_cache_matches_on_the_full_stat_only(store):
    store.put_hashes([("/p/a", 10, 111, 5, "h-a"), ("/p/b", 20, 222, 6, "h-b")])
    assert store.get_hash("/p/a", 10, 111, 5) == "h-a"
    assert store.get_hash("/p/a", 10, 112, 5) is None  # touched
    assert store.get_hash("/p/a", 11, 111, 5) is None  # resized
    assert store.get_hash("/p/a", 10, 111, 7) is None  # replaced by another file
    store.put_hashes([("/p/a", 10, 112, 5, "h-a2")])
    assert store.get_hash("/p/a", 10, 112, 5) == "h-a2"


def test_a_corrupt_database_is_moved_aside_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = tmp_path / ".datamake"
    state.mkdir()
    (state / "state.db").write_bytes(b"this is not a database, just garbage " * 200)
    store = StateStore.open(".datamake")
    try:
        (warning,) = store.warnings
        (aside,) = [p for p in os.listdir(state) if p.startswith("state.db.corrupt-")]
        assert warning.startswith(f"state database .datamake/state.db was unreadable; moved aside to "
                                  f".datamake/{aside}; everything will be rebuilt as needed (")
        assert (state / aside).read_bytes().startswith(b"this is not a database")
        store.record_success("/p/a", "h", {}, {}, 1.0, 2.0)
        assert list(store.load_successes()) == ["/p/a"]
    finally:
        store.close()
    reopened = StateStore.open(".datamake")
    assert reopened.warnings == [] and list(reopened.load_successes()) == ["/p/a"]
    reopened.close()


def test_an_unknown_schema_version_is_never_reused(tmp_path):
    state = tmp_path / ".datamake"
    first = StateStore.open(str(state))
    first.record_success("/p/a", "h", {}, {}, 1.0, 2.0)
    first.db.execute(f"PRAGMA user_version = {STATE_SCHEMA_VERSION + 1}")
    first.close()
    store = StateStore.open(str(state))
    try:
        (warning,) = store.warnings
        assert "was unreadable; moved aside to" in warning
        assert warning.endswith(f"(schema version {STATE_SCHEMA_VERSION + 1}; "
                                f"this datamake knows up to {STATE_SCHEMA_VERSION})")
        assert store.load_successes() == {}
    finally:
        store.close()
    assert len([p for p in os.listdir(state) if p.startswith("state.db.corrupt-") and "-wal" not in p]) == 1


def test_tables_added_by_other_modules_do_not_make_the_database_unreadable(tmp_path):
    state = tmp_path / ".datamake"
    state.mkdir()
    db = sqlite3.connect(state / "state.db")
    db.execute("CREATE TABLE schedule_intervals (key TEXT)")
    db.commit()
    db.close()
    store = StateStore.open(str(state))
    assert store.warnings == []
    store.close()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


HOLDER = """
import sys, time
from datamake.build.lock import acquire_lock
with acquire_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_second_datamake_is_refused_while_the_first_holds_the_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, ".datamake"], env=_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(UsageError) as caught:
            with acquire_lock(".datamake"):
                pass
        assert caught.value.message == f"another datamake (pid {holder.pid}) holds .datamake/lock"
        elsewhere = tmp_path / "sub"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        with pytest.raises(UsageError, match=f"holds {tmp_path}/.datamake/lock"):
            with acquire_lock(str(tmp_path / ".datamake")):
                pass
    finally:
        holder.communicate("done\n", timeout=10)
    with acquire_lock(str(tmp_path / ".datamake")):
        assert (tmp_path / ".datamake" / "lock").read_text() == f"{os.getpid()}\n"


def test_a_stale_lock_file_from_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state = tmp_path / ".datamake"
    state.mkdir()
    (state / "lock").write_text(dead.stdout)
    with acquire_lock(str(state)):
        assert (state / "lock").read_text() == f"{os.getpid()}\n"
    # A holder killed outright leaves its pid behind; the kernel has dropped its lock.
    killed = subprocess.Popen([sys.executable, "-c", HOLDER, str(state)], env=_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline() == "locked\n"
    killed.kill()
    killed.communicate(timeout=10)
    assert (state / "lock").read_text() == f"{killed.pid}\n"
    with acquire_lock(str(state)):
        assert (state / "lock").read_text() == f"{os.getpid()}\n"


def test_a_transaction_commits_its_writes_together_or_not_at_all(tmp_path, store):
    run = store.begin_run([])
    with store.transaction():
        store.record_success("/p/a.csv", "h1", {}, {}, 1.0, 2.0)
        store.record_attempt(run, "/p/a.csv", 0, "a.csv", "success", 1.0, 2.0, None, "missing output")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.record_success("/p/b.csv", "h2", {}, {}, 1.0, 2.0)
            raise RuntimeError("the process dies between the two writes")
    other = StateStore.open(str(tmp_path / ".datamake"))
    try:
        assert sorted(other.load_successes()) == ["/p/a.csv"]
        assert [a.key for a in other.last_run_attempts()] == ["/p/a.csv"]
    finally:
        other.close()

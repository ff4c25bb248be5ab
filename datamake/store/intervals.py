"""Schedule records in the state database: one row per interval, one per attempt, one per step outcome."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from datamake.store import schema

# Interval states (schedule_intervals.state):
#   running      an attempt is building it now (its pid in schedule_attempts)
#   success      the last attempt succeeded
#   failed       the last attempt failed and no retry is left; an input that never arrived also ends here,
#                with `waiting_for` still naming it (so a later tick builds it if the input turns up)
#   retry        the last attempt failed; the next one is due at next_attempt_at
#   interrupted  its runner stopped mid-build; the next runner builds it again
#   waiting      due, but a required input that no step makes is not there yet: `waiting_for` lists
#                them (a JSON list of names), `wait_until` (UTC ISO) is when waiting gives up; no
#                attempt is opened while waiting, so `attempts` does not grow
#   adopted      never built by datamake, but every dated output already existed when it was first
#                seen (e.g. made by the cron job datamake replaced): done, like success
DONE = ("success", "adopted")
STATES = ("running", "success", "failed", "retry", "interrupted", "waiting", "adopted")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class IntervalRecord:
    key: str
    start: str
    end: str
    state: str
    attempts: int
    next_attempt_at: str | None
    updated_at: str
    error: str | None
    waiting_for: tuple[str, ...] = ()  # inputs it waits (or waited in vain) for
    wait_until: str | None = None  # UTC ISO: when waiting gives up

    @property
    def done(self) -> bool:
        return self.state in DONE


@dataclass(frozen=True)
class IntervalAttempt:
    """One attempt at building one interval of a schedule; its steps' own tries are StepAttempts."""

    id: int
    key: str
    attempt: int
    state: str
    started_at: str
    ended_at: str | None
    pid: int | None
    error: str | None
    log_path: str | None


def _record(row) -> IntervalRecord:
    return IntervalRecord(*row[:8], tuple(json.loads(row[8])) if row[8] else (), row[9])


class ScheduleState:
    """Interval and attempt tables of `<state_dir>/state.db` for one workflow, in their own connection."""

    def __init__(self, state_dir: str, workflow: str, readonly: bool = False):
        """Open (creating or migrating the database), or with `readonly` read an in-memory copy of what is
        there (an unreadable one reads as empty, with a warning in `warnings`); schema.Unusable if unreadable."""
        self.workflow = workflow
        self.lock = threading.RLock()
        self.warnings: list[str] = []
        self.path = os.path.join(state_dir, "state.db")
        self.readonly = readonly
        self.sweep_path = os.path.join(state_dir, "schedule-sweep.json")
        # BEGIN IMMEDIATE is ours to say (isolation_level None): see _Immediate.
        if readonly:
            self.db, self.warnings = schema.open_readonly(state_dir, isolation_level=None)
            return
        os.makedirs(state_dir, exist_ok=True)
        # Intervals build in worker threads under --max-active: one connection, used under a lock.
        self.db = schema.connect(self.path, isolation_level=None)

    def last_sweep(self) -> str | None:
        """When a tick last checked every recorded interval's outputs (UTC ISO, by the run's clock)."""
        try:
            with open(self.sweep_path, encoding="utf-8") as handle:
                return json.load(handle).get(self.workflow)
        except (OSError, ValueError, AttributeError):
            return None

    def swept(self, when: str) -> None:
        """Remember a full sweep (a small file beside the database: no schema change for one time)."""
        if self.readonly:
            return
        try:
            with open(self.sweep_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            data = {}
        data = {**(data if isinstance(data, dict) else {}), self.workflow: when}
        tmp = f"{self.sweep_path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.sweep_path)

    def close(self) -> None:
        self.db.close()

    def recover(self) -> list[str]:
        """Turn `running` intervals of other runners into `interrupted`; return their keys.

        Called under the state directory's lock, which proves no other runner is alive: a pid that
        still exists has been reused by an unrelated process since its runner died.
        """
        with self.lock:
            rows = self.db.execute("SELECT id, key, pid FROM schedule_attempts WHERE workflow=? AND state='running'",
                                   (self.workflow,)).fetchall()
        dead = [(aid, key) for aid, key, pid in rows if pid != os.getpid()]
        with self._transaction():
            for aid, key in dead:
                self.db.execute("UPDATE schedule_attempts SET state='interrupted', ended_at=?, "
                                "error='runner stopped before the interval finished' WHERE id=?", (utc_now(), aid))
                self.db.execute("UPDATE schedule_intervals SET state='interrupted', updated_at=? "
                                "WHERE workflow=? AND key=? AND state='running'", (utc_now(), self.workflow, key))
        return sorted({key for _, key in dead})

    def claim(self, key: str, start: str, end: str, pid: int, log_path: str | None) -> int | None:
        """Mark an interval running and open an attempt, atomically; None if a live runner holds it."""
        with self._transaction():
            row = self.db.execute(
                "SELECT pid FROM schedule_attempts WHERE workflow=? AND key=? AND state='running'",
                (self.workflow, key)).fetchone()
            if row and row[0] == os.getpid():  # another interval build of this runner (recover() took the rest)
                return None
            now = utc_now()
            self.db.execute(
                "INSERT INTO schedule_intervals (workflow, key, start, end, state, attempts, updated_at) "
                "VALUES (?, ?, ?, ?, 'running', 1, ?) ON CONFLICT (workflow, key) DO UPDATE SET "
                "state='running', attempts=attempts+1, next_attempt_at=NULL, updated_at=excluded.updated_at, "
                "waiting_for=NULL, wait_until=NULL",
                (self.workflow, key, start, end, now))
            number = self.db.execute("SELECT attempts FROM schedule_intervals WHERE workflow=? AND key=?",
                                     (self.workflow, key)).fetchone()[0]
            cur = self.db.execute(
                "INSERT INTO schedule_attempts (workflow, key, attempt, state, started_at, pid, log_path) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)", (self.workflow, key, number, now, pid, log_path))
            return cur.lastrowid

    def finish(self, attempt_id: int, key: str, state: str, *, error: str | None = None,
               next_attempt_at: str | None = None, steps: dict[str, str] | None = None,
               log_path: str | None = None) -> None:
        """Close an attempt and set its interval's state (`success`, `failed`, `retry`, `interrupted`), with step outcomes.

        `log_path` is the log of the step that failed it, kept on the attempt."""
        # An attempt that built what it could while the interval waits for an input, or all that was asked
        # of it (a step-only build leaves the interval partial), succeeded at that.
        attempt_state = "success" if state in ("waiting", "partial") else state if state in ("success", "interrupted") else "failed"
        now = utc_now()
        with self._transaction():
            self.db.execute("UPDATE schedule_attempts SET state=?, ended_at=?, error=?, "
                            "log_path=COALESCE(?, log_path) WHERE id=?", (attempt_state, now, error, log_path, attempt_id))
            self.db.execute("UPDATE schedule_intervals SET state=?, error=?, next_attempt_at=?, updated_at=? "
                            "WHERE workflow=? AND key=?", (state, error, next_attempt_at, now, self.workflow, key))
            if state == "success":  # what --clear marked is rebuilt now
                self.db.execute("DELETE FROM schedule_cleared WHERE workflow=? AND key=?", (self.workflow, key))
            number = self.db.execute("SELECT attempt FROM schedule_attempts WHERE id=?", (attempt_id,)).fetchone()[0]
            for step, step_state in (steps or {}).items():
                self.db.execute(
                    "INSERT INTO schedule_steps VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workflow, key, step) "
                    "DO UPDATE SET state=excluded.state, attempt=excluded.attempt, updated_at=excluded.updated_at",
                    (self.workflow, key, step, step_state, number, now))

    def mark(self, key: str, start: str, end: str, state: str, *, error: str | None = None,
             waiting_for: list[str] | None = None, wait_until: str | None = None) -> None:
        """Set an interval's state without an attempt: `waiting`, `adopted`, or `failed` when its wait ran out."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO schedule_intervals (workflow, key, start, end, state, attempts, updated_at, error, "
                "waiting_for, wait_until) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT (workflow, key) DO UPDATE "
                "SET state=excluded.state, updated_at=excluded.updated_at, error=excluded.error, "
                "waiting_for=excluded.waiting_for, wait_until=excluded.wait_until, next_attempt_at=NULL",
                (self.workflow, key, start, end, state, utc_now(), error,
                 json.dumps(waiting_for) if waiting_for else None, wait_until))

    def intervals(self) -> dict[str, IntervalRecord]:
        """Every recorded interval of this workflow by key."""
        with self.lock:
            rows = self.db.execute(
                "SELECT key, start, end, state, attempts, next_attempt_at, updated_at, error, waiting_for, wait_until "
                "FROM schedule_intervals WHERE workflow=? ORDER BY start", (self.workflow,)).fetchall()
        return {r[0]: _record(r) for r in rows}

    def get(self, key: str) -> IntervalRecord | None:
        """One interval's record (one row read, not the whole table)."""
        if not key:
            return None
        with self.lock:
            row = self.db.execute(
                "SELECT key, start, end, state, attempts, next_attempt_at, updated_at, error, waiting_for, wait_until "
                "FROM schedule_intervals WHERE workflow=? AND key=?", (self.workflow, key)).fetchone()
        return _record(row) if row else None

    def clear(self, key: str, start: str, end: str, steps: list[str]) -> None:
        """`--clear`: mark these steps of the interval to be rebuilt by the next tick (state `cleared`)."""
        now = utc_now()
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO schedule_cleared VALUES (?, ?, ?, ?)",
                                [(self.workflow, key, step, now) for step in steps])
            self.db.execute(
                "INSERT INTO schedule_intervals (workflow, key, start, end, state, attempts, updated_at) "
                "VALUES (?, ?, ?, ?, 'cleared', 0, ?) ON CONFLICT (workflow, key) DO UPDATE SET state='cleared', "
                "updated_at=excluded.updated_at, error=NULL, next_attempt_at=NULL", (self.workflow, key, start, end, now))

    def cleared(self, key: str) -> frozenset[str]:
        """The steps of interval `key` that --clear marked and no success rebuilt yet."""
        with self.lock:
            rows = self.db.execute("SELECT step FROM schedule_cleared WHERE workflow=? AND key=?", (self.workflow, key))
            return frozenset(row[0] for row in rows.fetchall())

    def paused_since(self) -> str | None:
        """When this workflow's schedule was paused (UTC ISO), or None when it runs."""
        with self.lock:
            row = self.db.execute("SELECT paused_at FROM schedule_paused WHERE workflow=?", (self.workflow,)).fetchone()
        return row[0] if row else None

    def set_paused(self, paused: bool) -> None:
        with self._transaction():
            if paused:
                self.db.execute("INSERT OR IGNORE INTO schedule_paused VALUES (?, ?)", (self.workflow, utc_now()))
            else:
                self.db.execute("DELETE FROM schedule_paused WHERE workflow=?", (self.workflow,))

    def sla_missed(self) -> set[str]:
        """The intervals whose SLA miss was reported already."""
        with self.lock:
            rows = self.db.execute("SELECT key FROM schedule_sla WHERE workflow=?", (self.workflow,))
            return {row[0] for row in rows.fetchall()}

    def mark_sla_missed(self, key: str) -> bool:
        """Record the SLA miss of an interval; False when it was recorded before (report it once)."""
        with self._transaction():
            cur = self.db.execute("INSERT OR IGNORE INTO schedule_sla VALUES (?, ?, ?)", (self.workflow, key, utc_now()))
            return cur.rowcount == 1

    def steps(self, key: str | None = None) -> dict[str, dict[str, str]]:
        """Step outcomes by interval key: {key: {step label: state}}, of every interval or of `key`'s."""
        out: dict[str, dict[str, str]] = {}
        query = "SELECT key, step, state FROM schedule_steps WHERE workflow=?"
        with self.lock:
            if key is None:
                rows = self.db.execute(query, (self.workflow,)).fetchall()
            else:
                rows = self.db.execute(query + " AND key=?", (self.workflow, key)).fetchall()
        for key, step, state in rows:
            out.setdefault(key, {})[step] = state
        return out

    def succeeded(self, key: str) -> set[str]:
        """The steps of interval `key` whose latest outcome is a success.

        Each step's own attempts (written by the Builder as the step finishes) win over the outcomes
        written when the interval ended: a runner killed mid-interval wrote only the former.
        """
        states = self.steps(key).get(key, {})
        with self.lock:
            rows = self.db.execute("SELECT step, outcome FROM attempts WHERE workflow=? AND interval=? "
                                   "AND step IS NOT NULL ORDER BY id", (self.workflow, key)).fetchall()
        states.update((step, "success" if outcome == "success" else "failed") for step, outcome in rows)
        return {step for step, state in states.items() if state == "success"}

    def attempts(self, key: str | None = None) -> list[IntervalAttempt]:
        """Attempts in order, for one interval or all."""
        sql = ("SELECT id, key, attempt, state, started_at, ended_at, pid, error, log_path "
               "FROM schedule_attempts WHERE workflow=?")
        params: tuple = (self.workflow,)
        if key is not None:
            sql += " AND key=?"
            params += (key,)
        with self.lock:
            return [IntervalAttempt(*r) for r in self.db.execute(sql + " ORDER BY id", params).fetchall()]

    def _transaction(self):
        return _Immediate(self.db, self.lock, self.path)


class _Immediate:
    """`BEGIN IMMEDIATE` ... COMMIT (ROLLBACK on error): takes the write lock up front, so claims never race."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, path: str):
        self.db = db
        self.lock = lock
        self.path = path

    def __enter__(self):
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.lock.release()
            raise schema.unwritable(self.path, exc) from None
        return self.db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.Error as err:
            if exc_type is None:  # a failed commit (a full disk) is the error to report
                raise schema.unwritable(self.path, err) from None
        finally:
            self.lock.release()
        if isinstance(exc, sqlite3.Error):
            raise schema.unwritable(self.path, exc) from None
        return False

"""What datamake remembers between runs: .datamake/state.db (SQLite, WAL, its schema in schema.py)."""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from typing import Collection, Iterable, Iterator, NamedTuple

from datamake.model import Step, workflow_directory
from datamake.store import schema
from datamake.store.schema import shown

KEYED_READ_LIMIT = 500  # more bound parameters than that: reading the whole table is as quick
_IN_LIST = 500  # names bound in one `IN (...)` (SQLite allows 999 parameters on old builds)


class SuccessRecord(NamedTuple):
    """A step's last success. A tuple, and fingerprints parsed on access: 20,000 load fast."""

    key: str
    command_hash: str
    inputs_json: str
    outputs_json: str
    started: float | None
    finished: float | None

    @property
    def inputs(self) -> dict[str, str]:
        return json.loads(self.inputs_json)

    @property
    def outputs(self) -> dict[str, str]:
        return json.loads(self.outputs_json)


@dataclass(frozen=True)
class StepAttempt:
    """One try at running one step in one run."""

    run_id: int
    key: str
    step_index: int
    label: str
    outcome: str  # success, failed, timeout, interrupted
    started: float | None
    finished: float | None
    log_path: str | None
    reason: str | None
    error: str | None
    workflow: str | None = None
    interval: str = ""  # the schedule interval's key; '' in a plain build
    step: str | None = None  # the step's stable name (`report/$[DATE].csv` in a schedule)
    attempt: int | None = None  # 1, 2, ... per interval and step, across runs
    exit_code: int | None = None


@dataclass(frozen=True)
class AttemptWhere:
    """Where an attempt belongs, beyond its run: its workflow, interval, stable step name and number."""

    workflow: str | None = None
    interval: str = ""
    step: str | None = None
    attempt: int | None = None
    exit_code: int | None = None


_ATTEMPT_COLUMNS = ("run_id, key, step_index, label, outcome, started, finished, log_path, reason, error, "
                    "workflow, interval, step, attempt, exit_code")


def default_state_dir(workflow_path: str) -> str:
    """Where a workflow's state lives without --state-dir: `.datamake/` beside a Drakefile, and
    `.datamake/workflows/NAME/` for another workflow file NAME, so that two workflows in one folder
    keep separate records, logs and locks (one never blocks the other)."""
    name = os.path.basename(workflow_path)
    folder = workflow_directory(os.path.abspath(workflow_path))  # a piped workflow's is the current one
    if name == "Drakefile":
        return os.path.join(folder, ".datamake")
    return os.path.join(folder, ".datamake", "workflows", name)


def step_key(step: Step) -> str:
    """A step's identity across runs: its sorted outputs, else its output tags, else its index."""
    if len(step.outputs) == 1:
        return step.outputs[0].name
    if step.outputs:
        return "\n".join(sorted(t.name for t in step.outputs))
    if step.output_tags:
        return "\n".join("%" + t.lstrip("%") for t in sorted(step.output_tags))
    return f"index:{step.index}"


class StateStore:
    """The state database of one state directory. Open it with `StateStore.open(state_dir)`."""

    def __init__(self, state_dir: str, db: sqlite3.Connection, warnings: list[str]):
        self.state_dir = state_dir
        self.db = db
        self.warnings = warnings
        self._lock = threading.RLock()  # the connection is shared by the Builder's threads
        self._batched = False  # inside transaction(): writes wait for its one commit

    @classmethod
    def open(cls, state_dir: str) -> StateStore:
        """Open (or create) `state_dir/state.db`; an unusable one is set aside with a warning."""
        schema.make_state_dir(state_dir, "logs")
        path = os.path.join(state_dir, "state.db")
        schema.check_path(path)
        warnings: list[str] = []
        try:
            db = schema.connect(path)
        except schema.Unusable as why:
            aside = _move_aside(path)
            warnings.append(f"state database {shown(path)} was unreadable; moved aside to {shown(aside)}; "
                            f"everything will be rebuilt as needed ({why})")
            db = schema.connect(path)
        return cls(state_dir, db, warnings)

    @classmethod
    def open_readonly(cls, state_dir: str) -> StateStore:
        """An in-memory copy of `state_dir/state.db` for previews (see schema.open_readonly), where the
        step a dead runner left half put in place reads as not done (settled in the copy only)."""
        store = cls(state_dir, *schema.open_readonly(state_dir))
        store.settle_publishing()
        return store

    def close(self) -> None:
        self.db.close()

    def close_abandoned_runs(self) -> int:
        """Mark `running` run rows `interrupted`: called by the lock's first holder (build.lock.open_store),
        so their runner is gone."""
        with self._lock, _writing(self.db, self.state_dir):
            cur = self.db.execute("UPDATE runs SET status = 'interrupted', finished = ? WHERE status = 'running'",
                                  (time.time(),))
        return cur.rowcount

    # ------------------------------------------------------------ successes

    def load_successes(self, keys: Collection[str] | None = None) -> dict[str, SuccessRecord]:
        """The last success by step key of every step, or of those `keys` (a schedule's interval
        reads its own few, not every interval's), in one query."""
        query = "SELECT key, command_hash, inputs, outputs, started, finished FROM successes"
        with self._lock:
            if keys is None or len(keys) > KEYED_READ_LIMIT:
                rows = self.db.execute(query).fetchall()
            else:
                keys = list(keys)
                rows = self.db.execute(f"{query} WHERE key IN ({','.join('?' * len(keys))})", keys).fetchall()
        return {row[0]: SuccessRecord._make(row) for row in rows}

    def record_success(self, key: str, command_hash: str, inputs: dict[str, str], outputs: dict[str, str],
                       started: float | None, finished: float | None) -> None:
        """Remember that the step `key` succeeded with these fingerprints (replacing the old record)."""
        self._write("INSERT OR REPLACE INTO successes VALUES (?, ?, ?, ?, ?, ?)",
                    (key, command_hash, json.dumps(inputs, sort_keys=True), json.dumps(outputs, sort_keys=True),
                     started, finished))

    def forget_successes(self, keys: Collection[str]) -> None:
        """Drop the success records of these steps (`--clean`): they count as never run."""
        with self.transaction():
            for key in keys:
                self._write("DELETE FROM successes WHERE key = ?", (key,))

    def publishing(self, run_id: int, key: str, attempt_id: int, outputs: dict[str, tuple[int, int]]) -> None:
        """In the transaction of a success recorded before its outputs are renamed into place (before
        record_success): remember the step, its outputs' (inode, mtime_ns) once in place, and the success
        it replaces, for settle_publishing. One row per run: its Builder renames one step's outputs at a time."""
        replaced = self.db.execute("SELECT command_hash, inputs, outputs, started, finished FROM successes "
                                   "WHERE key = ?", (key,)).fetchone()
        self._write("INSERT OR REPLACE INTO publishing VALUES (?, ?, ?, ?, ?)",
                    (run_id, key, attempt_id, json.dumps(outputs), json.dumps(replaced) if replaced else None))

    def settle_publishing(self, run_id: int | None = None) -> list[str]:
        """Undo the recorded success of a step whose outputs were not all renamed into place (its runner
        was killed, or a rename failed): the success it replaced is back, its attempt `interrupted`.
        Of one run, or of every run (a dead runner's). Returns the keys of the steps undone."""
        with self._lock:
            rows = self.db.execute("SELECT run_id, key, attempt_id, outputs, replaced FROM publishing" +
                                   ("" if run_id is None else " WHERE run_id = ?"),
                                   () if run_id is None else (run_id,)).fetchall()
        undone = []
        for run, key, attempt_id, outputs, replaced in rows:
            placed = all(_in_place(name, *where) for name, where in json.loads(outputs).items())
            with self._lock, _writing(self.db, self.state_dir):
                if not placed:
                    self.db.execute("DELETE FROM successes WHERE key = ?", (key,))
                    if replaced:
                        self.db.execute("INSERT INTO successes VALUES (?, ?, ?, ?, ?, ?)", (key, *json.loads(replaced)))
                    self.db.execute("UPDATE attempts SET outcome = 'interrupted', error = ? WHERE id = ?",
                                    ("stopped before its outputs were in place", attempt_id))
                    undone.append(key)
                self.db.execute("DELETE FROM publishing WHERE run_id = ?", (run,))
        return undone

    # ------------------------------------------------------------ runs and attempts

    def begin_run(self, argv: list[str] | None = None) -> int:
        """Open a run record (argv defaults to this process's arguments); returns its id."""
        argv = sys.argv[1:] if argv is None else argv
        with self._lock, _writing(self.db, self.state_dir):
            cur = self.db.execute("INSERT INTO runs (started, status, argv) VALUES (?, 'running', ?)",
                                  (time.time(), json.dumps(list(argv))))
        return cur.lastrowid

    def end_run(self, run_id: int, status: str) -> None:
        """Close a run with its status (success, failed, interrupted), after settling the renames of its
        last success (settle_publishing: a stop may have come between its record and its renames)."""
        self.settle_publishing(run_id)
        self._write("UPDATE runs SET finished = ?, status = ? WHERE run_id = ?", (time.time(), status, run_id))

    def record_attempt(self, run_id: int, key: str, step_index: int, label: str, outcome: str,
                       started: float | None, finished: float | None, log_path: str | None,
                       reason: str | None, error: str | None = None, where: AttemptWhere = AttemptWhere()) -> int:
        """Record one try at a step: outcome is success, retry, failed, timeout or interrupted; its row id."""
        return self._write(f"INSERT INTO attempts ({_ATTEMPT_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                           (run_id, key, step_index, label, outcome, started, finished, log_path, reason, error,
                            where.workflow, where.interval, where.step, where.attempt, where.exit_code))

    def last_attempt_number(self, interval: str, step: str) -> int:
        """The highest attempt number recorded for this interval's step (0: none); one indexed lookup."""
        with self._lock:
            row = self.db.execute("SELECT MAX(attempt) FROM attempts WHERE interval = ? AND step = ?",
                                  (interval, step)).fetchone()
        return row[0] or 0

    def last_attempt_numbers(self, interval: str, steps: list[str]) -> dict[str, int]:
        """last_attempt_number of many steps in a few reads (steps with no attempt are left out)."""
        found: dict[str, int] = {}
        with self._lock:
            for start in range(0, len(steps), _IN_LIST):
                chunk = steps[start:start + _IN_LIST]
                listed = ", ".join("?" * len(chunk))
                found.update(self.db.execute(f"SELECT step, MAX(attempt) FROM attempts WHERE interval = ? AND step IN"
                                             f" ({listed}) GROUP BY step", (interval, *chunk)).fetchall())
        return found

    def runs(self) -> list[tuple[int, float, float | None, str]]:
        """Every run as (run_id, started, finished, status), oldest first."""
        with self._lock:
            return self.db.execute("SELECT run_id, started, finished, status FROM runs ORDER BY run_id").fetchall()

    def last_run_attempts(self) -> list[StepAttempt]:
        """The attempts of the latest run that attempted anything, in order."""
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_ATTEMPT_COLUMNS} FROM attempts "
                "WHERE run_id = (SELECT MAX(run_id) FROM attempts) ORDER BY id").fetchall()
        return [StepAttempt(*row) for row in rows]

    def step_attempts(self, interval: str | None = None, workflow: str | None = None) -> list[StepAttempt]:
        """Every recorded step attempt, oldest first; of one interval and/or workflow when given."""
        sql, params = f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE 1", []
        if interval is not None:
            sql, params = sql + " AND interval = ?", params + [interval]
        if workflow is not None:
            sql, params = sql + " AND workflow = ?", params + [workflow]
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY id", params).fetchall()
        return [StepAttempt(*row) for row in rows]

    def last_outcomes(self) -> dict[str, str]:
        """Each step's latest attempt outcome by step key."""
        with self._lock:
            rows = self.db.execute(
                "SELECT key, outcome FROM attempts WHERE id IN (SELECT MAX(id) FROM attempts GROUP BY key)")
            return dict(rows.fetchall())

    # ------------------------------------------------------------ content-hash cache

    def get_hash(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        """The cached content hash of `path` if its stat still matches, else None."""
        with self._lock:
            row = self.db.execute(
                "SELECT hash FROM content_hashes WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
                (path, size, mtime_ns, inode)).fetchone()
        return row[0] if row else None

    def put_hashes(self, rows: Iterable[tuple[str, int, int, int, str]]) -> None:
        """Cache (path, size, mtime_ns, inode, hash) rows in one transaction."""
        with self._lock, _writing(self.db, self.state_dir):
            self.db.executemany("INSERT OR REPLACE INTO content_hashes VALUES (?, ?, ?, ?, ?)", list(rows))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside the block are committed together at its end (or none of them, on an error)."""
        with self._lock, _writing(self.db, self.state_dir):
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

    def _write(self, sql: str, params: tuple) -> int:
        # One statement, committed at once: a killed run keeps everything recorded before it.
        with self._lock:
            if self._batched:
                return self.db.execute(sql, params).lastrowid
            with _writing(self.db, self.state_dir):
                return self.db.execute(sql, params).lastrowid


def _in_place(name: str, inode: int, mtime_ns: int) -> bool:
    try:
        st = os.stat(name)
    except OSError:
        return False
    return (st.st_ino, st.st_mtime_ns) == (inode, mtime_ns)


@contextlib.contextmanager
def _writing(db: sqlite3.Connection, state_dir: str) -> Iterator[None]:
    """A transaction (`with db`) whose SQLite failure (a full disk) is a StateError naming the database."""
    try:
        with db:
            yield
    except sqlite3.Error as exc:
        raise schema.unwritable(os.path.join(state_dir, "state.db"), exc) from None


def _move_aside(path: str) -> str:
    """Rename the database (and its WAL files) to `state.db.corrupt-<timestamp>`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside, n = f"{path}.corrupt-{stamp}", 1
    while os.path.exists(aside):
        n += 1
        aside = f"{path}.corrupt-{stamp}-{n}"
    try:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.replace(path + suffix, aside + suffix)
    except OSError as exc:
        raise schema.StateError(f"state database {shown(path)} is unreadable and cannot be moved aside: "
                                f"{exc.strerror or exc}") from None
    return aside

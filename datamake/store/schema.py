"""The schema of `.datamake/state.db`: one list of migrations for every table in it, and the two ways to open it.

`PRAGMA user_version` holds how many migrations have been applied. A newer datamake migrates a
database made by an older one when it opens it; a database from a newer datamake (a version
beyond the list) is not trusted.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import sqlite3
from typing import Callable, Union

from datamake.errors import UsageError
from datamake.model import relative_to


def _schedule_tables(db: sqlite3.Connection) -> None:
    """The schedule's tables, which the first release created outside the version count: a database of
    that release may have them already, and one of a later development build the two waiting columns too."""
    db.executescript("""
    CREATE TABLE IF NOT EXISTS schedule_intervals (
        workflow TEXT NOT NULL, key TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL,
        state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT,
        updated_at TEXT NOT NULL, error TEXT, PRIMARY KEY (workflow, key));
    CREATE TABLE IF NOT EXISTS schedule_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, workflow TEXT NOT NULL, key TEXT NOT NULL,
        attempt INTEGER NOT NULL, state TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
        pid INTEGER, error TEXT, log_path TEXT);
    CREATE TABLE IF NOT EXISTS schedule_steps (
        workflow TEXT NOT NULL, key TEXT NOT NULL, step TEXT NOT NULL, state TEXT NOT NULL,
        attempt INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (workflow, key, step));
    """)
    have = {row[1] for row in db.execute("PRAGMA table_info(schedule_intervals)")}
    for column in ("waiting_for", "wait_until"):  # inputs an interval waits for (JSON list), until when (UTC ISO)
        if column not in have:
            db.execute(f"ALTER TABLE schedule_intervals ADD COLUMN {column} TEXT")


# Each entry upgrades the schema by one version: SQL, or a function where SQL cannot say "if missing".
# Append, never edit a released one.
Migration = Union[str, Callable[[sqlite3.Connection], None]]
MIGRATIONS: tuple[Migration, ...] = (
    """
    CREATE TABLE IF NOT EXISTS successes (
        key TEXT PRIMARY KEY, command_hash TEXT NOT NULL, inputs TEXT NOT NULL,
        outputs TEXT NOT NULL, started REAL, finished REAL);
    CREATE TABLE IF NOT EXISTS runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL, finished REAL,
        status TEXT NOT NULL, argv TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL, key TEXT NOT NULL,
        step_index INTEGER NOT NULL, label TEXT NOT NULL, outcome TEXT NOT NULL, started REAL,
        finished REAL, log_path TEXT, reason TEXT, error TEXT);
    CREATE INDEX IF NOT EXISTS attempts_by_key ON attempts (key, id);
    CREATE INDEX IF NOT EXISTS attempts_by_run ON attempts (run_id);
    CREATE TABLE IF NOT EXISTS content_hashes (
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        inode INTEGER NOT NULL, hash TEXT NOT NULL);
    """,
    # Each step attempt knows its workflow, interval ('' in a plain build), stable step name,
    # attempt number (per interval and step, across runs) and exit status; its log is its own.
    """
    ALTER TABLE attempts ADD COLUMN workflow TEXT;
    ALTER TABLE attempts ADD COLUMN interval TEXT NOT NULL DEFAULT '';
    ALTER TABLE attempts ADD COLUMN step TEXT;
    ALTER TABLE attempts ADD COLUMN attempt INTEGER;
    ALTER TABLE attempts ADD COLUMN exit_code INTEGER;
    CREATE INDEX IF NOT EXISTS attempts_by_step ON attempts (interval, step, attempt);
    CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started);
    """,
    _schedule_tables,
    # Operating schedules: when each interval's SLA miss was reported (once per interval, across
    # ticks), and which workflows' schedules are paused.
    """
    CREATE TABLE IF NOT EXISTS schedule_sla (
        workflow TEXT NOT NULL, key TEXT NOT NULL, missed_at TEXT NOT NULL, PRIMARY KEY (workflow, key));
    CREATE TABLE IF NOT EXISTS schedule_paused (workflow TEXT PRIMARY KEY, paused_at TEXT NOT NULL);
    """,
    # `--clear`: the steps of an interval marked to be rebuilt by the next tick.
    """
    CREATE TABLE IF NOT EXISTS schedule_cleared (
        workflow TEXT NOT NULL, key TEXT NOT NULL, step TEXT NOT NULL, cleared_at TEXT NOT NULL,
        PRIMARY KEY (workflow, key, step));
    """,
    # Per run, the step whose success is committed and whose outputs are being renamed into place,
    # with the success it replaced: undone by the next run when its runner died before the renames.
    """
    CREATE TABLE IF NOT EXISTS publishing (
        run_id INTEGER PRIMARY KEY, key TEXT NOT NULL, attempt_id INTEGER NOT NULL, outputs TEXT NOT NULL,
        replaced TEXT);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
TABLES = ("successes", "runs", "attempts", "content_hashes", "schedule_intervals", "schedule_attempts",
          "schedule_steps", "schedule_sla", "schedule_paused", "schedule_cleared", "publishing")
_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED: another process is writing, not corruption
# SQLITE_CORRUPT, SQLITE_NOTADB: the file itself is damaged. Anything else (a full disk, an I/O
# error, no permission) says nothing about the database, which must then never be set aside.
_DAMAGED_CODES = (11, 26)
_NEARLY_FULL = 1 << 20  # bytes free under which a failed open or write is put down to the disk


class StateError(UsageError):
    """The state database cannot be opened, read or written: a full disk, a bad path, no permission."""


class Unusable(Exception):
    """The database file cannot be trusted: corrupt, or from an unknown schema version."""


def connect(path: str, isolation_level: str | None = "") -> sqlite3.Connection:
    """Connect, verify, migrate to the current schema; raise Unusable when that is unsafe.

    One connection may serve several threads (the Builder's, the schedule's --max-active).
    """
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=isolation_level)
    try:
        _prepare(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary code of an extended one
        if code in _BUSY_CODES:
            raise StateError(f"state database {shown(path)} is busy: {exc}") from None
        if code in _DAMAGED_CODES:
            raise Unusable(str(exc)) from None
        raise StateError(f"cannot open state database {shown(path)}: {exc}{full_disk(path)}") from None
    except Unusable:
        db.close()
        raise
    return db


def unwritable(path: str, exc: sqlite3.Error) -> StateError:
    """A failed write to the state database (a full disk) as one line naming it."""
    return StateError(f"cannot write state database {shown(path)}: {exc}{full_disk(path)}")


def full_disk(path: str) -> str:
    """`; no space left ...` when the disk holding `path` is (nearly) full: SQLite says only "disk I/O error"."""
    try:
        free = shutil.disk_usage(os.path.dirname(path) or ".").free
    except OSError:
        return ""
    return f"; no space left on the device holding it ({free} bytes free)" if free < _NEARLY_FULL else ""


def make_state_dir(state_dir: str, *inner: str) -> None:
    """Create the state directory (and `inner` folders in it); a file in the way is a StateError."""
    try:
        os.makedirs(os.path.join(state_dir, *inner), exist_ok=True)
    except OSError as exc:
        blocked = next((p for p in _parents(os.path.join(state_dir, *inner))
                        if os.path.lexists(p) and not os.path.isdir(p)), None)
        why = f"{shown(blocked)} is not a directory" if blocked else exc.strerror or str(exc)
        raise StateError(f"cannot create state directory {shown(state_dir)}: {why}") from None


def _parents(path: str) -> list[str]:
    out: list[str] = []
    while path and path not in out:
        out.append(path)
        path = os.path.dirname(path)
    return out


def check_path(path: str) -> None:
    """A state.db that is a directory or a link into nowhere cannot be opened: say so, move nothing."""
    if os.path.isdir(path):
        raise StateError(f"state database {shown(path)} is a directory", hint="remove it or pass another --state-dir")
    if os.path.islink(path) and not os.path.exists(os.path.dirname(os.path.realpath(path))):
        raise StateError(f"state database {shown(path)} is a symbolic link to a missing directory: "
                         f"{os.readlink(path)}")


def open_readonly(state_dir: str, isolation_level: str | None = "") -> tuple[sqlite3.Connection, list[str]]:
    """An in-memory copy of `state_dir/state.db` at the current schema, for previews and --status: the
    directory is never touched. A missing database reads as empty; so does an unusable one, with a
    warning (returned): only a real run sets it aside."""
    path = os.path.join(state_dir, "state.db")
    if not os.path.exists(path):
        return _empty(isolation_level), []
    db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=isolation_level)
    try:
        _copy_readonly(path, db)
        _prepare(db)
        return db, []
    except (sqlite3.DatabaseError, Unusable) as why:
        db.close()
        return _empty(isolation_level), [f"state database {shown(path)} is unreadable ({why}); "
                                         "treated as empty (a run will set it aside)"]


def _empty(isolation_level: str | None) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=isolation_level)
    _prepare(db)
    return db


# Tables that only grow with history (a year of a big team's runs: half a million rows): checked when
# retention prunes them, not at every open, which must stay cheap. A damaged page there still
# surfaces as an error when read.
HISTORY_TABLES = ("attempts",)


def quick_check(db: sqlite3.Connection, skip: tuple[str, ...] = ()) -> str:
    """SQLite's quick_check, table by table, leaving out `skip`: 'ok' or the first problem."""
    if not skip:
        return db.execute("PRAGMA quick_check").fetchone()[0]
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        if table not in skip:
            check = db.execute(f'PRAGMA quick_check("{table}")').fetchone()[0]
            if check != "ok":
                return check
    return "ok"


def _prepare(db: sqlite3.Connection) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise Unusable(f"schema version {version}; this datamake knows up to {SCHEMA_VERSION}")
    check = quick_check(db, skip=HISTORY_TABLES)
    if check != "ok":
        raise Unusable(f"integrity check failed: {check}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: commits survive a killed process
    for number in range(version, SCHEMA_VERSION):
        migration = MIGRATIONS[number]
        with db:
            if callable(migration):
                migration(db)
            else:
                db.executescript(migration)
            db.execute(f"PRAGMA user_version = {number + 1}")
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [name for name in TABLES if name not in present]
    if missing:  # its version promises tables it lacks: as damaged as a failed integrity check
        raise Unusable(f"integrity check failed: table {', '.join(missing)} missing")


def _copy_readonly(path: str, into: sqlite3.Connection) -> None:
    """Copy the database into `into` without creating files beside it.

    With no WAL file (no writer, clean shutdown) `immutable` reads it without lock or -shm
    files; a live WAL exists already, so `mode=ro` may use it to see the latest commits.
    """
    mode = "mode=ro" if os.path.exists(path + "-wal") else "immutable=1"
    source = sqlite3.connect(f"{pathlib.Path(path).as_uri()}?{mode}", uri=True, timeout=30)
    try:
        source.backup(into)
    finally:
        source.close()


def shown(path: str) -> str:
    """`path` relative to the working directory when inside it, as users wrote it."""
    return relative_to(os.path.abspath(path), os.getcwd())

"""Retention (`keep:90d`): old run history and old logs pruned at the end of a run, the database vacuumed when worth it."""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from datamake.store.schema import HISTORY_TABLES, quick_check

VACUUM_SHARE = 0.25  # of the file's pages free after pruning...
VACUUM_PAGES = 1024  # ...and at least this many (4 MiB at SQLite's default page size)


@dataclass(frozen=True)
class Pruned:
    runs: int
    attempts: int
    logs: int
    vacuumed: bool
    problem: str | None = None  # the history tables' check, when it failed


def prune(db: sqlite3.Connection, state_dir: str, keep: float, now: float) -> Pruned:
    """Forget runs (and their step attempts, and interval attempts) that started more than `keep` seconds
    before `now`, delete log files last written before then, and vacuum when much space was freed.

    Rebuild records (each step's last success) and each interval's own record are kept whatever
    their age: they say what is up to date and which intervals are done.
    """
    cutoff = now - keep
    iso = datetime.fromtimestamp(cutoff, timezone.utc).isoformat(timespec="seconds")
    with db:
        attempts = db.execute("DELETE FROM attempts WHERE run_id IN (SELECT run_id FROM runs WHERE started < ?)",
                              (cutoff,)).rowcount
        runs = db.execute("DELETE FROM runs WHERE started < ?", (cutoff,)).rowcount
        db.execute("DELETE FROM schedule_attempts WHERE started_at < ? AND state != 'running'", (iso,))
    logs = _prune_logs(os.path.join(state_dir, "logs"), cutoff)
    vacuumed = _vacuum_if_worth_it(db) if runs else False
    problem = None
    if runs:  # history is checked here, not at every open (see schema.HISTORY_TABLES)
        problem = next((c for t in HISTORY_TABLES if (c := quick_check(db, _others(db, t))) != "ok"), None)
    return Pruned(runs, attempts, logs, vacuumed, problem)


def _others(db: sqlite3.Connection, table: str) -> tuple[str, ...]:
    return tuple(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if r[0] != table)


def _prune_logs(logs: str, cutoff: float) -> int:
    """Delete log files older than `cutoff`, then the interval folders left empty."""
    removed = 0
    for folder, subfolders, files in os.walk(logs, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if os.stat(path).st_mtime < cutoff:
                    os.unlink(path)
                    removed += 1
            except FileNotFoundError:
                pass
        if folder != logs and not os.listdir(folder):
            os.rmdir(folder)
    return removed


def _vacuum_if_worth_it(db: sqlite3.Connection) -> bool:
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    if free < VACUUM_PAGES or free < VACUUM_SHARE * pages:
        return False
    db.execute("VACUUM")
    return True

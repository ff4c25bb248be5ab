"""A full or nearly full disk: one clear error line, never exit 3, a healthy state database kept in place."""
from __future__ import annotations

import json
import os
import sqlite3
import time

from faultkit import disk_project, fill, one_error_line, small_disk  # noqa: F401  (fixtures)

WORKFLOW = "out.txt <-\n  echo x > $OUTPUT\n"


def test_a_nearly_full_disk_never_moves_a_healthy_state_database_aside(disk_project):
    disk_project.workflow("out.txt <- in.txt\n  cp $INPUT $OUTPUT\n")
    disk_project.write("in.txt", "data\n")
    assert disk_project.run("--check", "hash").returncode == 0
    filler = fill(disk_project.path, leave=8192)  # room for the lock's pid, not for SQLite's WAL index
    done = disk_project.run("--check", "hash", timeout=20)
    assert done.returncode == 2, done.stderr
    line = one_error_line(done.stderr)
    assert line.startswith("datamake: error: cannot open state database .datamake/state.db: "), line
    assert "no space left" in line
    assert not [n for n in os.listdir(disk_project.path / ".datamake") if ".corrupt" in n]
    filler.unlink()
    again = disk_project.run("--check", "hash", "--json", timeout=20)
    assert again.returncode == 0, again.stderr
    # Hash mode trusts only the record (a fresh database would rebuild): it survived.
    assert json.loads(again.stdout.splitlines()[-1])["ran"] == []
    assert "warning" not in again.stderr


def test_a_full_disk_at_the_lock_is_one_line_and_nothing_runs(disk_project):
    disk_project.workflow(WORKFLOW)
    fill(disk_project.path)
    done = disk_project.run(timeout=20)
    assert done.returncode == 2
    assert one_error_line(done.stderr) == \
        "datamake: error: cannot write lock file .datamake/lock: No space left on device"
    assert not disk_project.exists("out.txt")


def test_a_step_that_fills_the_disk_fails_by_name_and_its_run_is_closed(disk_project):
    disk_project.workflow("""\
        big.bin <-
          dd if=/dev/zero of=scratch.bin bs=64k 2>/dev/null
        small.txt <-
          echo small > $OUTPUT
        """)
    assert disk_project.run("small.txt").returncode == 0  # the state database exists, with its WAL
    fill(disk_project.path, leave=256 * 1024)  # enough to open the database, not for the step
    done = disk_project.run("big.bin", timeout=20)
    assert done.returncode == 1, done.stderr
    assert one_error_line(done.stderr).startswith("datamake: error: step failed: big.bin (")
    (disk_project.path / "filler").unlink()
    (disk_project.path / "scratch.bin").unlink()
    assert disk_project.run("small.txt").returncode == 0
    db = sqlite3.connect(disk_project.path / ".datamake" / "state.db")
    statuses = [row[0] for row in db.execute("SELECT status FROM runs ORDER BY run_id")]
    db.close()
    assert "running" not in statuses and statuses[0] == "success" and statuses[-1] == "success", statuses


def test_a_log_that_cannot_be_written_stops_its_step(project, small_disk):
    project.workflow("""\
        out.txt <-
          echo $$ > pid
          echo some output
          exec sleep 30
        """)
    (project.path / ".datamake").mkdir()
    os.symlink(small_disk, project.path / ".datamake" / "logs")  # the logs' disk is full, the rest is not
    fill(small_disk)
    started = time.monotonic()
    done = project.run(timeout=20)
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    assert line.startswith("datamake: error: step failed: out.txt (cannot write its log ") and \
        line.endswith("out.txt.1.log: No space left on device)"), line
    assert time.monotonic() - started < 15  # stopped, not waited for
    pid = int(project.read("pid"))
    assert not os.path.exists(f"/proc/{pid}"), "the step's process outlived datamake"
    assert not project.exists("out.txt")

"""Bad input, one table: every case exits before running anything, with one located or `datamake:` error line.

Each case writes its project, runs the real command and checks the exit code, that stderr is
exactly one error line (plus the source line and caret of a located error) naming what and
where, and that the step which would mark a run (`ran.txt`) never ran.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import pytest

RUNS = "ran.txt <-\n  echo yes > $OUTPUT\n"


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    error: str  # the error line starts with this (after `datamake: error: ` unless it is located)
    workflow: str | bytes = RUNS
    setup: Callable | None = None
    code: int = 2
    located: bool = False
    files: dict = field(default_factory=dict)


def _file(path: str, text: str = "x"):
    def setup(root):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return setup


def _dir(path: str):
    return lambda root: (root / path).mkdir(parents=True, exist_ok=True)


def _link(path: str, to: str):
    def setup(root):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(to, root / path)
    return setup


CASES = [
    # ---- the command line (already tested one by one elsewhere)
    Case("unknown flag", ("--bogus",), "unrecognized arguments: --bogus"),
    Case("jobs zero", ("-j", "0"), "argument -j/--jobs: must be at least 1: 0"),
    Case("missing workflow", ("-w", "nowhere/Drakefile"), "workflow not found: nowhere/Drakefile"),
    Case("unknown target", ("nothing.txt",), "target not found: nothing.txt"),
    Case("bad --var", ("--var", "A"), "bad --var variable 'A': expected NAME=VALUE"),
    # ---- the workflow text (already tested one by one elsewhere)
    Case("unindented command", ("-P",), "Drakefile:2:1: error: command not indented", "ran.txt <-\necho x\n",
         located=True),
    Case("unknown option", (), "Drakefile:1:13: error: unknown option: bogus", "ran.txt <- [bogus:1]\n  echo\n",
         located=True),
    Case("unterminated quote", (), "Drakefile:1:1: error: unterminated quote", "'ran.txt <-\n  echo\n",
         located=True),
    # ---- #17 (9): paths that are not what they should be
    Case("--state-dir names a file", ("--state-dir", "state"),
         "cannot create state directory state: state is not a directory", setup=_file("state")),
    Case(".datamake is a file", (), "cannot create state directory .datamake: .datamake is not a directory",
         setup=_file(".datamake")),
    Case("state.db is a directory", (), "state database .datamake/state.db is a directory",
         setup=_dir(".datamake/state.db")),
    Case("state.db links nowhere", (), "state database .datamake/state.db is a symbolic link to a missing directory",
         setup=_link(".datamake/state.db", "/nonexistent/dir/state.db")),
    Case("the lock is a directory", (), "cannot open lock file .datamake/lock: Is a directory",
         setup=_dir(".datamake/lock")),
    Case("graph into a missing directory", ("--graph", "dot", "-o", "no/such/g.dot"),
         "cannot write no/such/g.dot: No such file or directory"),
    Case("graph onto a directory", ("--graph", "dot", "-o", "adir"), "cannot write adir: Is a directory",
         setup=_dir("adir")),
    Case("-w d with d/Drakefile a directory", ("-w", "d"), "workflow d/Drakefile is a directory",
         setup=_dir("d/Drakefile")),
    # ---- #17 (8): bytes and names
    Case("NUL in a name", (), "Drakefile:1:4: error: NUL byte in the workflow", b"ran\0.txt <-\n  echo\n",
         located=True),
    Case("NUL in a $(command)", (), "Drakefile:1:13: error: NUL byte in the workflow",
         b"X=$(echo a; \0echo b)\n" + RUNS.encode(), located=True),
    Case("NUL in a body", (), "Drakefile:2:8: error: NUL byte in the workflow",
         b"ran.txt <-\n  echo \0yes > $OUTPUT\n", located=True),
    Case("NUL printed by a $(command)", (), "Drakefile:1:3: error: $(printf 'a\\0b') printed a NUL byte",
         "X=$(printf 'a\\0b')\n" + RUNS, located=True),
    Case("a byte that is not UTF-8", (), "Drakefile:1:12: error: invalid UTF-8 byte 0xff",
         b"ran.txt <- \xff.txt\n  echo\n", located=True),
    Case("a name part over 255 bytes", (), "Drakefile:1:1: error: file name too long: a part of it has 300 bytes",
         "x" * 300 + " <-\n  echo\n" + RUNS, located=True),
    Case("a path over 4096 bytes", (), "Drakefile:1:12: error: file name too long: ",
         RUNS.replace("<-", "<- " + "/".join(["d" * 200] * 25)), located=True),
    # ---- #17 (11): nothing accepted silently
    Case("--now empty", ("--now", ""), "argument --now: empty value"),
    Case("--tz empty", ("--tz", ""), "argument --tz: empty value"),
    Case("--schedule empty", ("--schedule", ""), "argument --schedule: empty value"),
    Case("-w empty", ("-w", ""), "argument -w/--workflow: empty value"),
    Case("--from after --to", ("--from", "2026-11-25", "--to", "2026-11-20", "--now", "2026-12-01"),
         "--from 2026-11-25 is after --to 2026-11-20", "%schedule daily\nran/$[DATE].txt <-\n  echo > $OUTPUT\n"),
    Case("a sign and a value", (), "Drakefile:1:13: error: option atomic: write -atomic or atomic:VALUE, not both",
         "ran.txt <- [-atomic:yes]\n  echo yes > $OUTPUT\n", located=True),
    Case("two %schedule lines", (), "Drakefile:2:1: error: a second %schedule (the first is at Drakefile:1:1)",
         "%schedule daily\n%schedule hourly\nran/$[DATE].txt <-\n  echo > $OUTPUT\n", located=True),
    Case("an %include chain 490 deep", (), "inc/99.drake:1:1: error: %include nested more than 100 files deep",
         "%include inc/0.drake\n" + RUNS, setup=lambda root: _include_chain(root, 490), located=True),
]


def _include_chain(root, depth: int) -> None:
    (root / "inc").mkdir()
    for i in range(depth):
        (root / "inc" / f"{i}.drake").write_text(f"%include {i + 1}.drake\n" if i + 1 < depth else "Y=1\n")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_stops_before_running_with_one_error_line(project, case):
    if isinstance(case.workflow, bytes):
        (project.path / "Drakefile").write_bytes(case.workflow)
    else:
        project.write("Drakefile", case.workflow, dedent=False)
    if case.setup:
        case.setup(project.path)
    done = project.run(*case.args, timeout=20)
    assert done.returncode == case.code, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    prefix = case.error if case.located else "datamake: error: " + case.error
    assert lines and lines[0].startswith(prefix), done.stderr
    assert len(lines) == (3 if case.located else 1), done.stderr
    assert not project.exists("ran.txt") and not project.exists("ran")


def test_a_state_database_missing_a_table_is_read_as_empty_then_set_aside(project):
    import sqlite3

    project.workflow("out.txt <- in.txt\n  cp $INPUT $OUTPUT\n")
    project.write("in.txt", "data\n")
    assert project.run().returncode == 0
    db = sqlite3.connect(project.path / ".datamake" / "state.db")
    db.execute("DROP TABLE attempts")
    db.commit()
    db.close()
    for args in (["-P"], ["--graph", "text"], ["--status"]):
        preview = project.run(*args)
        assert preview.returncode == 0, preview.stderr
        assert "internal error" not in preview.stderr
    preview = project.run("-P")
    assert "table attempts missing" in preview.stderr and "treated as empty" in preview.stderr
    assert not [n for n in os.listdir(project.path / ".datamake") if ".corrupt" in n]  # a preview moves nothing
    done = project.run()
    assert done.returncode == 0, done.stderr
    assert "moved aside" in done.stderr and "table attempts missing" in done.stderr
    assert [n for n in os.listdir(project.path / ".datamake") if n.startswith("state.db.corrupt-")]

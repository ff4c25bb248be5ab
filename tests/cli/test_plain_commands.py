"""A body that is one plain command runs without bash, as make does, and gets exactly what bash would give it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from conftest import ROOT

PROBE = """\
#!/usr/bin/env python3
import json, os, sys
with open(f"/proc/{os.getppid()}/comm") as handle:
    parent = handle.read().strip()
record = {"argv": sys.argv[1:], "parent": parent, "pwd": os.environ.get("PWD"), "cwd": os.getcwd()}
with open(sys.argv[-1], "w") as out:
    json.dump(record, out)
"""


def with_probe(project) -> dict[str, str]:
    """A `probe` program on PATH that writes its arguments, its parent process and $PWD to its last argument."""
    probe = project.write("bin/probe", PROBE)
    probe.chmod(0o755)
    return {"PATH": f"{project.path / 'bin'}{os.pathsep}{os.environ['PATH']}", "PWD": "/"}


def test_a_plain_command_gets_the_words_bash_would_give_it_without_a_bash(project):
    project.workflow("""\
        FILES = "a.txt  b.txt"
        EMPTY =
        direct.json <-
          probe $FILES $EMPTY x${EMPTY}y --n=3 $OUTPUT
        shell.json <-
          probe $FILES $EMPTY x${EMPTY}y --n=3 $OUTPUT; true
        """)
    done = project.run(env=with_probe(project))
    assert done.returncode == 0, done.stderr
    direct, shell = (json.loads(project.read(name)) for name in ("direct.json", "shell.json"))
    assert direct["argv"][:-1] == shell["argv"][:-1] == ["a.txt", "b.txt", "xy", "--n=3"]
    assert shell["parent"] == "bash" and direct["parent"] != "bash"
    # bash sets $PWD to the step's directory: so does the direct run.
    assert direct["pwd"] == shell["pwd"] == direct["cwd"] == str(project.path)


def test_what_bash_would_interpret_keeps_bash(project):
    project.write("one.txt", "1\n")
    project.write("two.txt", "2\n")
    project.workflow("""\
        PATTERN = "*.txt"
        glob.json <-
          probe $PATTERN $OUTPUT
        quoted.json <-
          probe "one.txt" $OUTPUT
        special.json <-
          probe $RANDOM $OUTPUT
        """)
    done = project.run(env=with_probe(project))
    assert done.returncode == 0, done.stderr
    glob, quoted, special = (json.loads(project.read(n)) for n in ("glob.json", "quoted.json", "special.json"))
    assert glob["argv"][:-1] == ["one.txt", "two.txt"] and glob["parent"] == "bash"
    assert quoted["argv"][:-1] == ["one.txt"] and quoted["parent"] == "bash"
    assert special["argv"][0].isdigit() and special["parent"] == "bash"


def test_a_failing_or_missing_plain_command_fails_as_under_bash(project):
    project.workflow("""\
        listed.txt <-
          ls no-such-file
        missing.txt <-
          no-such-program $OUTPUT
        timed.txt <- [timeout:0.5s]
          sleep 30
        """)
    done = project.run()
    assert done.returncode == 1
    assert "listed.txt (exit 2)" in done.stderr
    assert "missing.txt (exit 127)" in done.stderr and "no-such-program: command not found" in done.stderr
    assert "timed.txt (timed out after 0.5s)" in done.stderr


def test_a_directly_run_step_gets_default_signals_and_no_stray_descriptor(project):
    """As under Popen: SIGPIPE back to default (Python ignores it), descriptors datamake was given closed."""
    project.workflow("""\
        status.txt <-
          cp /proc/self/status $OUTPUT
        fds.txt <-
          ls /proc/self/fd
        """)
    given, keep = os.pipe()
    os.set_inheritable(keep, True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run([sys.executable, "-m", "datamake", "-j1"], cwd=project.path, env=env, pass_fds=(keep,),
                              capture_output=True, text=True, timeout=60)
    finally:
        os.close(given)
        os.close(keep)
    assert done.returncode == 0, done.stderr
    ignored = int(next(line for line in project.read("status.txt").splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    listed = {int(line) for line in done.stdout.splitlines() if line.isdigit()}
    assert {0, 1, 2} <= listed and keep not in listed

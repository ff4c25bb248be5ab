"""A body that is one plain command runs without bash, as make does, and gets exactly what bash would give it."""
from __future__ import annotations

import json
import os

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

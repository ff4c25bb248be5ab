"""kill -9 in the middle of a build: no partial target, and the rerun does only what is left (but one step)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

STEPS = 60
SLOW_CP = "#!/bin/sh\nsleep 0.05\nexec cp \"$@\"\n"  # a plain command (run without bash), slow enough to kill mid-build


@pytest.mark.parametrize("check", ["timestamp", "hash"])
def test_kill_9_mid_build_leaves_no_partial_target_and_the_rerun_redoes_nothing(project, check):
    """A rebuild after every source changed: a step whose new output is in place must also have its new
    record, or (by content) the rerun would take its input for changed and run it again. The one window
    left is a single step's: between its outputs' rename and its record's commit."""
    project.write("bin/slowcp", SLOW_CP).chmod(0o755)
    project.workflow("".join(f"out/{i}.txt <- src/{i}.txt\n  slowcp $INPUT $OUTPUT\n\n" for i in range(STEPS)))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{project.path / 'bin'}{os.pathsep}{os.environ['PATH']}",
               DATAMAKE_CHECK=check)
    write_sources(project, "old")
    first = subprocess.run([sys.executable, "-m", "datamake", "-q", "-j2"], cwd=project.path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    time.sleep(0.05)  # the new sources are newer than every output on any file system's clock
    write_sources(project, "new")
    proc = subprocess.Popen([sys.executable, "-m", "datamake", "-q", "-j2"], cwd=project.path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(rebuilt(project)) < STEPS // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)  # the steps it left running finish or are stopped by the next run
    done = rebuilt(project)
    assert STEPS // 3 <= len(done) < STEPS, "the build was not killed in its middle"
    for i in range(STEPS):  # every target is whole, old or new: outputs appear only by rename
        assert (project.path / f"out/{i}.txt").read_text() in (content("old", i), content("new", i))

    again = subprocess.run([sys.executable, "-m", "datamake", "--json", "-j2"], cwd=project.path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    ran, left = set(json.loads(again.stdout)["ran"]), set(range(STEPS)) - done
    # Every step left runs; of those rebuilt, at most the one a kill caught between its outputs' rename and
    # its record's commit runs again (docs/state.md). Records lost for more would show here.
    assert left <= ran and len(ran - left) <= 1, (sorted(left), sorted(ran))
    assert len(rebuilt(project)) == STEPS
    assert sorted(os.listdir(project.path / "out")) == sorted(f"{i}.txt" for i in range(STEPS))  # no temporaries


def content(version: str, i: int) -> str:
    return f"{version} row {i}\n" * 1000


def write_sources(project, version: str) -> None:
    for i in range(STEPS):
        project.write(f"src/{i}.txt", content(version, i))


def rebuilt(project) -> set[int]:
    """The steps whose output already has the new content."""
    out = project.path / "out"
    return {i for i in range(STEPS) if (out / f"{i}.txt").read_text() == content("new", i)}

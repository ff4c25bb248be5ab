"""kill -9 in the middle of a build: no partial target, and the rerun does only what is left."""
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
    record, or (by content) the rerun would take its input for changed and run it again."""
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
    assert set(json.loads(again.stdout)["ran"]) == set(range(STEPS)) - done  # nothing rebuilt is rebuilt again
    assert len(rebuilt(project)) == STEPS
    assert sorted(os.listdir(project.path / "out")) == sorted(f"{i}.txt" for i in range(STEPS))  # no temporaries


def content(version: str, i: int) -> str:
    return f"{version} row {i}\n" * 1000


def write_sources(project, version: str, steps: int = STEPS) -> None:
    for i in range(steps):
        project.write(f"src/{i}.txt", content(version, i))


def rebuilt(project, steps: int = STEPS) -> set[int]:
    """The steps whose output already has the new content."""
    out = project.path / "out"
    return {i for i in range(steps) if (out / f"{i}.txt").read_text() == content("new", i)}


# Where datamake puts out/5.txt in place (its success already recorded), {fault} instead.
AT_RENAME = """
import errno, os, signal
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith("out/5.txt"):
        {fault}
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
"""
KILL_AT_RENAME = AT_RENAME.format(fault="os.kill(os.getpid(), signal.SIGKILL)")
FAIL_AT_RENAME = AT_RENAME.format(fault="raise OSError(errno.EIO, 'Input/output error', dst)")


def with_hook(env: dict, tmp_path, code: str) -> dict:
    """`env` with a sitecustomize running `code` in every Python process started with it."""
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(code)
    return dict(env, PYTHONPATH=f"{hook}{os.pathsep}{env['PYTHONPATH']}")


def built_then_changed(project) -> dict:
    """Ten `cp` steps built in hash mode, then every source changed; the environment to run datamake with."""
    project.workflow("".join(f"out/{i}.txt <- src/{i}.txt\n  cp $INPUT $OUTPUT\n\n" for i in range(10)))
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATAMAKE_CHECK="hash")
    write_sources(project, "old", 10)
    assert subprocess.run([sys.executable, "-m", "datamake", "-q"], cwd=project.path, env=env).returncode == 0
    write_sources(project, "new", 10)
    return env


def test_a_kill_between_a_success_record_and_its_rename_is_undone_by_the_next_run(project, tmp_path):
    """The one instant a record and its outputs disagree: the next run finds the output not in place,
    takes the record back, and runs that step (and only what was left) again."""
    env = built_then_changed(project)
    killed = subprocess.run([sys.executable, "-m", "datamake", "-q"], cwd=project.path,
                            env=with_hook(env, tmp_path, KILL_AT_RENAME), capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert rebuilt(project, 10) == set(range(5))  # out/5.txt is still the old one, whole
    preview = subprocess.run([sys.executable, "-m", "datamake", "-P", "--json"], cwd=project.path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert [s["index"] for s in json.loads(preview.stdout)["steps"]] == list(range(5, 10))  # before any run
    again = subprocess.run([sys.executable, "-m", "datamake", "--json"], cwd=project.path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["ran"] == list(range(5, 10))
    assert rebuilt(project, 10) == set(range(10))
    assert sorted(os.listdir(project.path / "out")) == sorted(f"{i}.txt" for i in range(10))  # no temporaries


def test_a_rename_that_fails_after_the_success_was_recorded_takes_the_record_back(project, tmp_path):
    """The step fails with one line naming the output, keeps its old output, and is the one step the
    next run runs again."""
    env = built_then_changed(project)
    failed = subprocess.run([sys.executable, "-m", "datamake", "--json"], cwd=project.path,
                            env=with_hook(env, tmp_path, FAIL_AT_RENAME), capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert json.loads(failed.stdout)["failed"] == [5]
    assert "out/5.txt" in failed.stderr and "Input/output error" in failed.stderr
    assert rebuilt(project, 10) == set(range(10)) - {5}
    again = subprocess.run([sys.executable, "-m", "datamake", "--json"], cwd=project.path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert json.loads(again.stdout)["ran"] == [5]
    assert rebuilt(project, 10) == set(range(10))

"""Workflows that are not what a happy path expects but are fine: a BOM, the longest legal name, a pipe."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading

from conftest import ROOT

RUNS = "ran.txt <-\n  echo yes > $OUTPUT\n"


def test_a_byte_order_mark_is_not_part_of_the_first_name(project):
    (project.path / "Drakefile").write_bytes(b"\xef\xbb\xbf" + RUNS.encode())
    done = project.run()
    assert done.returncode == 0, done.stderr
    assert project.read("ran.txt") == "yes\n"


def test_a_255_byte_output_name_is_built_through_its_temporary(project):
    name = "n" * 251 + ".txt"
    project.workflow(f"{name} <-\n  echo long > $OUTPUT\n")
    done = project.run()
    assert done.returncode == 0, done.stderr
    assert project.read(name) == "long\n"
    assert sorted(os.listdir(project.path)) == [".datamake", "Drakefile", name]  # no temporary left


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_a_workflow_from_process_substitution_is_read_once(project):
    command = (f"{shlex.quote(sys.executable)} -m datamake --json -w <(printf '%s' {shlex.quote(RUNS)})")
    done = subprocess.run(["bash", "-c", command], cwd=project.path, env=_env(), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["ran"] == [0]
    assert project.read("ran.txt") == "yes\n"  # relative names (and .datamake) are the current directory's
    assert (project.path / ".datamake").is_dir()


def test_a_workflow_from_a_fifo_is_read_once(project):
    fifo = project.path / "flow.fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as handle:
            handle.write(RUNS)
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        done = project.run("-w", "flow.fifo", timeout=20)
    finally:
        if writer.is_alive():  # datamake never opened it: free the writer
            with open(fifo, "rb"):
                pass
        writer.join(5)
    assert done.returncode == 0, done.stderr
    assert project.read("ran.txt") == "yes\n"

"""Two workflow files in one folder keep separate state: records, logs and the lock."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from conftest import ROOT

SLOW = """\
    slow.txt <-
      for i in $(seq 300); do [ -e go ] && break; sleep 0.1; done
      echo slow > $OUTPUT
    """


def test_two_workflows_in_one_folder_run_at_once(project):
    project.workflow(SLOW)
    project.workflow("quick.txt <-\n  echo quick > $OUTPUT\n", name="quick.drake")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    slow = subprocess.Popen([sys.executable, "-m", "datamake"], cwd=project.path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (project.path / ".datamake" / "lock").exists() or not (project.path / ".datamake" / "lock").read_text():
            assert time.monotonic() < deadline and slow.poll() is None
            time.sleep(0.05)
        quick = project.run("-w", "quick.drake")
        assert quick.returncode == 0, quick.stderr
        assert project.read("quick.txt") == "quick\n"
        assert (project.path / ".datamake" / "workflows" / "quick.drake" / "state.db").exists()
    finally:
        (project.path / "go").touch()
        assert slow.wait(timeout=30) == 0, slow.stderr.read()
    assert project.read("slow.txt") == "slow\n"

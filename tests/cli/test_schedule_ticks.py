"""Cron ticks while a retry is waited for, and the backoff's cap."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from conftest import ROOT

NOW = "--now=2026-11-24T10:00:00Z"


def test_the_backoff_doubles_up_to_its_cap(project):
    project.workflow("""
        out/$[DATE].txt <- [retries:3 retry-delay:0.1s retry-max-delay:0.2s]
          exit 1
    """)
    r = project.run("--date", "2026-11-23", NOW)
    assert r.returncode == 1
    assert ["retry 1 of 3 in 0.1s", "retry 2 of 3 in 0.2s", "retry 3 of 3 in 0.2s"] == [
        line.split("; ")[1] for line in r.stderr.splitlines() if "; retry" in line]


def test_a_tick_while_an_earlier_one_waits_for_a_retry_is_not_an_error(project):
    project.workflow("""
        %schedule daily
        out/$[DATE].txt <- [retries:1 retry-delay:3s]
          echo x >> tries
          [ "$(wc -l < tries)" -ge 2 ]
          echo ok > $OUTPUT
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "datamake", "--once", NOW], cwd=project.path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not project.exists("tries"):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = project.run("--once", NOW)
        assert second.returncode == 0, second.stderr
        assert "an earlier run of this schedule is still working, so this tick has nothing to do" in second.stderr
        assert first.wait(30) == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert project.read("out/2026-11-23.txt") == "ok\n"

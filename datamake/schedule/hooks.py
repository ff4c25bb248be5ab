"""--on-success / --on-failure: a shell command run once per interval outcome, told about it by its environment."""
from __future__ import annotations

import os
import subprocess
import sys

from datamake.schedule.intervals import Interval
from datamake.schedule.request import Outcome


def run_hook(command: str | None, interval: Interval, status: str, outcome: Outcome) -> int:
    """Run `command` with bash (its output goes to stderr); its exit status, 0 when there is none."""
    if not command:
        return 0
    env = {**os.environ, "DATAMAKE_DATE": interval.key, "DATAMAKE_STATUS": status,
           "DATAMAKE_STEP": ", ".join(outcome.failed), "DATAMAKE_ERROR": outcome.error or "",
           "DATAMAKE_LOG": outcome.log_path or "", **_prefixed(interval.own_variables())}
    return subprocess.run(["bash", "-c", command], env=env, stdout=sys.stderr).returncode


def _prefixed(variables: dict[str, str]) -> dict[str, str]:
    return {f"DATAMAKE_{name}": value for name, value in variables.items() if name != "DATE"}

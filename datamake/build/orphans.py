"""Step processes left running by a datamake that died (kill -9, out of memory): found and stopped.

Steps run in process groups of their own, so they outlive a runner killed without warning.
Each step's environment carries DATAMAKE_RUNNER=PID:STATE_DIR; the next datamake to take the
state directory's lock, finding the dead holder's pid still in the lock file, stops every
process group marked with that pid and directory before it builds anything again, so two
processes never write the same temporary output. Found through /proc (Linux); elsewhere a
no-op.
"""
from __future__ import annotations

import os
import signal
import time

from datamake.build.executors.local import TERM_GRACE  # the grace a cancelled step gets, given here too

MARK = "DATAMAKE_RUNNER"


def mark(state_dir: str) -> str:
    """The value of DATAMAKE_RUNNER for the steps this process runs on `state_dir`."""
    return f"{os.getpid()}:{os.path.realpath(state_dir)}"


def stop_orphans(dead_pid: int, state_dir: str) -> int:
    """Stop the process groups marked by runner `dead_pid` on `state_dir`; returns how many there were."""
    wanted = f"{MARK}={dead_pid}:{os.path.realpath(state_dir)}".encode()
    found = {group for group in (_marked_group(pid, wanted) for pid in _pids()) if group is not None}
    _signal(found, signal.SIGTERM)
    left, deadline = set(found), time.monotonic() + TERM_GRACE
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {group for group in left if _alive(group)}
    _signal(left, signal.SIGKILL)
    return len(found)


def _pids() -> list[str]:
    try:
        return [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []  # no /proc: nothing to find


def _marked_group(pid: str, wanted: bytes) -> int | None:
    """The process group of `pid` if its environment holds exactly `wanted`."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            environ = handle.read()
        if b"\0" + wanted + b"\0" not in b"\0" + environ + b"\0":
            return None
        group = os.getpgid(int(pid))
        return group if group != os.getpgrp() else None  # never this datamake's own group
    except OSError:  # gone meanwhile, or another user's
        return None


def _signal(groups: set[int], signum: int) -> None:
    for group in groups:
        try:
            os.killpg(group, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True

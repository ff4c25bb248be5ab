"""Shell hooks: `bash -c CMD` per matching event, with the event in DATAMAKE_* variables and a timeout."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from datamake.events import Event

HOOK_TIMEOUT = 60.0  # seconds; a hung hook must not hold the runner for longer
_GRACE = 2.0


@dataclass(frozen=True)
class Hook:
    """A shell command and the events (kinds or groups) it runs on."""

    command: str
    events: tuple[str, ...]
    where: str = "--on-..."  # for messages: the flag or the workflow location that declared it


def run_hook(hook: Hook, event: Event, timeout: float = HOOK_TIMEOUT) -> str | None:
    """Run the hook for `event` in the workflow's folder, output to stderr; a one-line problem, or None."""
    env = {**os.environ, **event.env()}
    cwd = os.path.dirname(event.workflow) or "."
    try:
        proc = subprocess.Popen(["bash", "-c", hook.command], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=sys.stderr, start_new_session=True)
    except OSError as exc:
        return f"cannot run hook ({hook.where}): {exc.strerror or exc}"
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        return f"hook ({hook.where}) on {event.kind} timed out after {timeout:g}s and was stopped"
    return f"hook ({hook.where}) on {event.kind} exited with status {code}" if code else None


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the hook's process group, SIGKILL after a grace."""
    for signum, wait in ((signal.SIGTERM, _GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue

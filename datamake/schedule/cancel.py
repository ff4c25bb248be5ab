"""Stopping interval builds from the main thread: it takes SIGINT/SIGTERM, the builds see a flag."""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Iterator

# The Builder's own "a signal came" exception: raised from an executor's wait() it unwinds the
# run exactly as SIGINT/SIGTERM do in the main thread (jobs killed, temporaries removed, recorded).
from datamake.build.signals import Stop as StopRun

POLL = 0.1  # seconds between a waiting build's looks at the flag


class Cancel:
    """The signal that asked every interval to stop, or None. A plain attribute: the handler takes no lock."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.waiting = False  # the main thread sits in a wait the handler may break

    def stop(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum


class Wake(Exception):
    """Raised by the handler in the main thread to end a wait at once."""


@contextlib.contextmanager
def signals(cancel: Cancel) -> Iterator[None]:
    """SIGINT/SIGTERM set `cancel` (and end a wait in progress) while the runner runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        cancel.stop(signum)
        if cancel.waiting:
            raise Wake()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, previous in old.items():
            signal.signal(signum, previous)


@contextlib.contextmanager
def waiting(cancel: Cancel) -> Iterator[None]:
    """Mark a blocking wait of the main thread that a signal may cut short with Wake."""
    cancel.waiting = True
    try:
        if cancel.signum is not None:
            raise Wake()
        yield
    finally:
        cancel.waiting = False


class CancellableExecutor:
    """An Executor whose wait() raises StopRun once `cancel` is set, so a Builder in any thread stops cleanly."""

    def __init__(self, inner, cancel: Cancel):
        self.inner = inner
        self.cancel = cancel

    def submit(self, job) -> None:
        self.inner.submit(job)

    def wait(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.cancel.signum is not None:
                raise StopRun(self.cancel.signum)
            left = POLL if deadline is None else min(POLL, max(0.0, deadline - time.monotonic()))
            started = time.monotonic()
            results = self.inner.wait(left)
            if results or (deadline is not None and time.monotonic() >= deadline):
                return results
            if time.monotonic() - started < left / 2:  # nothing running: wait() returned at once
                time.sleep(left)

    def cancel_all(self):
        return self.inner.cancel_all()

    def close(self) -> None:
        self.inner.close()

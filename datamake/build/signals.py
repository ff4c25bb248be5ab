"""SIGINT/SIGTERM during a build: routed to a handler for a while, turned into an exception that unwinds the run."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class Stop(Exception):
    """Raised from a signal handler to unwind the Builder's run loop."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def on_signals(handler) -> Iterator[None]:
    """Route SIGINT/SIGTERM to `handler` for a while (only the main thread can take signals)."""
    old = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            old[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, previous in old.items():
            signal.signal(signum, previous)

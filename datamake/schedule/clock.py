"""The schedule's clock: wall-clock time, or `--now` moving on from there; a test may pass its own."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock time, optionally starting from `--now` and moving on from there; sleeps really."""

    def __init__(self, start: datetime | None = None):
        self.start = start
        self.began = time.monotonic()

    def now(self) -> datetime:
        if self.start is None:
            return datetime.now(timezone.utc)
        return self.start + timedelta(seconds=time.monotonic() - self.began)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

"""What the Builder tells about a build, and the one thing it asks (`+confirm`): the Reporter it is given.

The Builder never chooses how a build is shown: its caller (the command line, the API, the schedule)
passes a Reporter from `views`; without one it reports to nobody but still warns on stderr.
"""
from __future__ import annotations

from typing import Any, Protocol

from datamake.build.executors.base import JobResult
from datamake.errors import warn
from datamake.model import Step

CONFIRM_NEEDED = "step needs confirmation: rerun with -a"


class Reporter(Protocol):
    def plan(self, entries: list[tuple[Step, Any]]) -> None: ...
    def step_started(self, step: Step, reason: Any, attempt: int) -> None: ...
    def step_output(self, step: Step, line: str, stderr: bool = False) -> None: ...
    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None: ...
    def step_skipped(self, step: Step, why: Any) -> None: ...
    def step_note(self, step: Step, text: str) -> None: ...
    def finished(self, result: Any) -> None: ...
    def warning(self, text: str) -> None: ...
    def confirm(self, step: Step) -> str | None:
        """None to run a `+confirm` step, else why it may not run."""
    def close(self) -> None: ...


class NullReporter:
    """Shows nothing but warnings, and confirms nothing (a `+confirm` step needs -a)."""

    def plan(self, entries: list[tuple[Step, Any]]) -> None:
        pass

    def step_started(self, step: Step, reason: Any, attempt: int) -> None:
        pass

    def step_output(self, step: Step, line: str, stderr: bool = False) -> None:
        pass

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        pass

    def step_skipped(self, step: Step, why: Any) -> None:
        pass

    def step_note(self, step: Step, text: str) -> None:
        pass

    def finished(self, result: Any) -> None:
        pass

    def warning(self, text: str) -> None:
        warn(text)

    def confirm(self, step: Step) -> str | None:
        return CONFIRM_NEEDED

    def close(self) -> None:
        pass

"""The interface between the Builder and the places steps run (local pool, Dask)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Job:
    """One attempt at running one step's body.

    `script` is the body text after substitution (atomic outputs already point at their
    temporary names); `env` is the complete environment for the process.
    """

    key: int  # the step's index in the workflow
    label: str
    protocol: str
    script: str
    env: dict[str, str]
    cwd: str
    log_path: str
    timeout: float | None = None
    prefix: str | None = None  # prefix for echoed output lines when several jobs run at once
    resources: dict[str, float] = field(default_factory=dict)
    drake: bool = False  # a shell body runs as Drake runs it: plain bash, no -e, no pipefail


@dataclass(frozen=True)
class JobResult:
    key: int
    returncode: int | None  # None when it never ran to an exit status
    started: float  # epoch seconds
    finished: float
    timed_out: bool = False
    interrupted: bool = False
    error: str | None = None  # why it failed, one line, for the user
    log_tail: str = ""
    log_path: str = ""  # the attempt's log file, filled in by the Builder

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.interrupted


class Executor(Protocol):
    """Runs jobs concurrently; the Builder bounds how many are in flight."""

    def submit(self, job: Job) -> None:
        """Start running `job` now."""

    def wait(self, timeout: float | None = None) -> list[JobResult]:
        """Block until at least one job finished (or timeout), return the finished ones."""

    def cancel_all(self) -> list[JobResult]:
        """Stop every running job (whole process groups), return their results."""

    def close(self) -> None:
        """Release workers, clusters, threads."""

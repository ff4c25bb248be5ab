"""The one event stream of builds and schedules, and the names hooks and notifiers filter it by."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable

# Every kind of event, in the order a run meets them.
KINDS = ("step_started", "step_retried", "step_failed", "step_succeeded",
         "interval_succeeded", "interval_failed", "waiting_timed_out", "sla_missed", "recovered")

# Short names for hooks and filters; `failure` and `success` mean the outcome of what was asked
# for: a step of a plain build, an interval of a schedule (so a failed interval alerts once,
# not once for its step and again for itself).
GROUPS: dict[str, Callable[["Event"], bool]] = {
    "start": lambda e: e.kind == "step_started",
    "retry": lambda e: e.kind == "step_retried",
    "failure": lambda e: e.kind in ("interval_failed", "waiting_timed_out") or
    (e.kind == "step_failed" and not e.interval),
    "success": lambda e: e.kind == "interval_succeeded" or (e.kind == "step_succeeded" and not e.interval),
    "sla-miss": lambda e: e.kind == "sla_missed",
    "recovery": lambda e: e.kind == "recovered",
    "all": lambda e: True,
}
DEFAULT_NOTIFY = ("failure", "sla-miss", "recovery")
TAIL_CHARS = 2000  # of a step's output, in an event


@dataclass(frozen=True)
class Event:
    """Something that happened to a step or an interval, with what an alert needs to say about it."""

    kind: str
    workflow: str  # the workflow file's path
    interval: str = ""  # the interval key; '' in a plain build
    step: str = ""  # the step's label (the failed steps', comma-separated, for an interval)
    attempt: int = 0  # 1, 2, ... per interval and step (for an interval: its own attempt count)
    error: str = ""
    tail: str = ""  # the last lines of the step's output (stdout and stderr, as in its log)
    log_path: str = ""
    detail: dict[str, str] = field(default_factory=dict)  # e.g. interval variables, the SLA
    time: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def workflow_name(self) -> str:
        """A short name: the workflow's folder for a Drakefile, else the file's name without extension."""
        base = os.path.basename(self.workflow)
        if base == "Drakefile":
            return os.path.basename(os.path.dirname(self.workflow)) or base
        return os.path.splitext(base)[0]

    @property
    def status(self) -> str:
        """The word older hooks saw in DATAMAKE_STATUS."""
        return {"interval_succeeded": "success", "step_succeeded": "success", "step_started": "running",
                "step_retried": "retry", "sla_missed": "late", "recovered": "success"}.get(self.kind, "failed")

    def env(self) -> dict[str, str]:
        """The event as DATAMAKE_* variables for a shell hook."""
        values = {"DATAMAKE_EVENT": self.kind, "DATAMAKE_WORKFLOW": self.workflow,
                  "DATAMAKE_WORKFLOW_NAME": self.workflow_name, "DATAMAKE_INTERVAL": self.interval,
                  "DATAMAKE_DATE": self.interval, "DATAMAKE_STATUS": self.status, "DATAMAKE_STEP": self.step,
                  "DATAMAKE_ATTEMPT": str(self.attempt), "DATAMAKE_ERROR": self.error,
                  "DATAMAKE_STDERR": self.tail[-TAIL_CHARS:], "DATAMAKE_LOG": self.log_path}
        values.update({f"DATAMAKE_{k}": v for k, v in self.detail.items() if f"DATAMAKE_{k}" not in values})
        return values

    def as_dict(self) -> dict:
        return {**asdict(self), "workflow_name": self.workflow_name}

    def title(self) -> str:
        """One line for a notification's subject."""
        what = f"{self.step} " if self.step and not self.kind.startswith(("interval", "sla", "recov")) else ""
        where = f" {self.interval}" if self.interval else ""
        return f"[datamake] {self.workflow_name}{where}: {what}{self.kind.replace('_', ' ')}"

    def body(self) -> str:
        """A notification's text: every field on its line, then the output's tail."""
        lines = [f"event: {self.kind}", f"workflow: {self.workflow_name} ({self.workflow})"]
        for name, value in (("interval", self.interval), ("step", self.step), ("attempt", self.attempt or ""),
                            ("error", self.error), ("log", self.log_path), *self.detail.items()):
            if value:
                lines.append(f"{name.lower()}: {value}")
        if self.tail:
            lines += ["", "last output:", self.tail[-TAIL_CHARS:]]
        return "\n".join(lines)


EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """A sink that drops every event (a build nobody listens to)."""


def check_filter(names: list[str]) -> str | None:
    """The first name that is neither an event kind nor a group, or None."""
    return next((n for n in names if n not in KINDS and n not in GROUPS), None)


def matches(names: tuple[str, ...], event: Event) -> bool:
    """True when the event is one the filter names (kinds exactly, groups by their rule)."""
    return any(event.kind == n or (n in GROUPS and GROUPS[n](event)) for n in names)

"""The JSON contract: its version, and what a build tells programs about each step it touched.

Here, below views and schedule, because both write these records (a plain build's --json and
each interval of a schedule run's).

Every `--json` output is one object carrying `"schema": SCHEMA`; the JSON Schema files of
each output ship beside this package (datamake/schema/*.json, copied in docs/schema/). A
change that removes or retypes a key raises SCHEMA; adding a key does not.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from datamake.build.executors.base import JobResult
from datamake.model import Step, relative_to

SCHEMA = 1


def stamped(data: dict) -> dict:
    """`data` with the contract's version first."""
    return {"schema": SCHEMA, **data}


def step_identity(step: Step) -> dict:
    """What names a step for a program: file-order index, label, outputs, inputs and tags."""
    return {"index": step.index, "label": step.label(),
            "outputs": [relative_to(t.name, step.workdir) for t in step.outputs],
            "inputs": [relative_to(t.name, step.workdir) for t in step.inputs],
            "tags": list(step.output_tags)}


class StepRecords:
    """Collects one record per step a build planned, started, finished or skipped, from its events."""

    def __init__(self, interval: str | None = None):
        self.interval = interval
        self.records: dict[int, dict] = {}

    def _record(self, step: Step) -> dict:
        record = self.records.get(step.index)
        if record is None:
            record = self.records[step.index] = {
                **step_identity(step), "interval": self.interval, "reason": None, "outcome": "planned",
                "start": None, "duration": None, "exit": None, "attempts": 0, "log": None, "error": None}
        return record

    def planned(self, step: Step, reason: Any) -> None:
        record = self._record(step)
        record["reason"] = getattr(reason, "label", str(reason))
        if not getattr(reason, "dirty", True):
            record["outcome"] = "up to date"

    def started(self, step: Step, reason: Any, attempt: int) -> None:
        record = self._record(step)
        record["reason"] = getattr(reason, "label", str(reason))
        record["attempts"] = attempt + 1
        record["outcome"] = "running"

    def finished(self, step: Step, result: JobResult, outcome: str) -> None:
        record = self._record(step)
        record.update(outcome=outcome, start=_iso(result.started),
                      duration=round(max(result.finished - result.started, 0.0), 6),
                      exit=result.returncode, log=result.log_path or None, error=result.error)

    def skipped(self, step: Step, why: Any) -> None:
        record = self._record(step)
        if hasattr(why, "dirty"):  # a projected step re-checked and found unchanged
            record.update(outcome="up to date", reason=why.label)
        else:
            record.update(outcome="skipped", error=str(why))

    def listed(self) -> list[dict]:
        return [self.records[i] for i in sorted(self.records)]


class Recording:
    """A reporter that also keeps StepRecords of the events it passes on."""

    def __init__(self, inner, records: StepRecords):
        self.inner, self.records = inner, records

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def plan(self, entries) -> None:
        for step, reason in entries:
            self.records.planned(step, reason)
        self.inner.plan(entries)

    def step_started(self, step: Step, reason: Any, attempt: int) -> None:
        self.records.started(step, reason, attempt)
        self.inner.step_started(step, reason, attempt)

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        self.records.finished(step, result, outcome)
        self.inner.step_finished(step, result, outcome)

    def step_skipped(self, step: Step, why: Any) -> None:
        self.records.skipped(step, why)
        self.inner.step_skipped(step, why)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")

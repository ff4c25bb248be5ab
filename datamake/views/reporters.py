"""Build events -> what people (or programs) see: rich progress, plain lines, one JSON line, or quiet."""
from __future__ import annotations

import json as jsonlib
import sys
from typing import Any, TextIO

from datamake.build.executors.base import JobResult
from datamake.errors import warn
from datamake.model import Step
from datamake.build.records import StepRecords, stamped
from datamake.build.reporting import CONFIRM_NEEDED


def make_reporter(terminal: bool, quiet: bool, json: bool, jobs: int, console=None, why: bool = False) -> Reporter:
    """The reporter for this audience: JSON beats quiet beats a terminal beats plain lines.

    `console` (a rich Console) receives the normal output; warnings and errors always go to
    stderr. `why` prints every decision of the plan with its evidence.
    """
    if json:
        return JsonReporter(jobs, console)
    if quiet:
        return QuietReporter(jobs, console)
    if terminal:
        return RichReporter(jobs, console, why)
    return PlainReporter(jobs, console, why)


class Reporter:
    """Receives the Builder's events; the base class shows nothing but warnings."""

    def __init__(self, jobs: int, console=None, why: bool = False):
        self.jobs = jobs
        self.why = why
        self._file: TextIO | None = console.file if console is not None else None
        self.labels: dict[int, str] = {}
        self.decided: dict[int, str] = {}  # step index -> the plan's reason with its evidence

    @property
    def out(self) -> TextIO:
        # Looked up at each write, so a redirected or captured sys.stdout is honoured.
        return self._file if self._file is not None else sys.stdout

    def plan(self, entries: list[tuple[Step, Any]]) -> None:
        for step, _reason in entries:
            self.labels[step.index] = step.label()

    def step_started(self, step: Step, reason: Any, attempt: int) -> None:
        self.labels[step.index] = step.label()

    def step_output(self, step: Step, line: str, stderr: bool = False) -> None:
        """One line a step printed; `stderr` when it came from the step's standard error."""

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        self.labels[step.index] = step.label()

    def step_skipped(self, step: Step, why: Any) -> None:
        """`why` is a string, or the Reason a re-check found the step up to date by."""
        self.labels[step.index] = step.label()

    def step_note(self, step: Step, text: str) -> None:
        """A remark on how a step's outputs were taken, worth saying once with --why."""

    def finished(self, result: Any) -> None:
        pass

    def warning(self, text: str) -> None:
        warn(text)

    def confirm(self, step: Step) -> str | None:
        """`+confirm`: ask on a terminal; without one the step cannot run (-a runs it unasked)."""
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            return CONFIRM_NEEDED
        print(f"Run step {step.label()}? [y/n] ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip().lower()
        return None if answer in ("y", "yes") else "not confirmed"

    def close(self) -> None:
        pass


class PlainReporter(Reporter):
    """Drake-like lines for logs and pipes: `--- 3. Running (missing output): out/report.csv`.

    With `why`, every decision is shown with its evidence: the plan's up front, and again
    when a projected step is re-checked just before it runs.
    """

    def plan(self, entries: list[tuple[Step, Any]]) -> None:
        super().plan(entries)
        self.decided = {step.index: str(reason) for step, reason in entries}
        if self.why:
            for step, reason in entries:
                self._say(f"--- {step.index}. {step.label()}: {reason}")

    def step_started(self, step: Step, reason: Any, attempt: int) -> None:
        super().step_started(step, reason, attempt)
        if self.why and attempt == 0 and str(reason) != self.decided.get(step.index):
            self._say(f"--- {step.index}. {step.label()}: re-checked: {reason}")
        cause = _cause(reason, attempt)
        self._say(f"--- {step.index}. Running ({cause}): {step.label()}")

    def step_output(self, step: Step, line: str, stderr: bool = False) -> None:
        self._say(f"[{step.label()}] {line}" if self.jobs > 1 else line, stderr)

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        super().step_finished(step, result, outcome)
        self._say(f"--- {step.index}: {step.label()} -> {finish_text(result, outcome)}")

    def step_skipped(self, step: Step, why: Any) -> None:
        super().step_skipped(step, why)
        text = str(why) if self.why else getattr(why, "label", why)  # a Reason after a re-check
        self._say(f"--- {step.index}. Skipped ({text}): {step.label()}")

    def step_note(self, step: Step, text: str) -> None:
        if self.why:
            self._say(f"--- {step.index}. note: {text}")

    def finished(self, result: Any) -> None:
        self._say(summary(result, self.labels))

    def _say(self, text: str, stderr: bool = False) -> None:
        out = sys.stderr if stderr else self.out
        out.write(text + "\n")
        out.flush()


class QuietReporter(Reporter):
    """Only warnings and failures (with the end of their output), all on stderr."""

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        if outcome == "success":
            return
        text = f"--- {step.index}: {step.label()} -> {finish_text(result, outcome)}"
        if result.log_tail and outcome != "retry":
            text += "\n" + "\n".join("    " + line for line in result.log_tail.splitlines())
        print(text, file=sys.stderr, flush=True)


class JsonReporter(Reporter):
    """Silent during the run; at the end exactly one line (schema/build.json): "ran", "failed" and
    "skipped" (step indexes, as before the contract had a version), "ok", and "steps", one record
    per step touched with its outputs, tags, reason, outcome, start, duration, exit and log."""

    def __init__(self, jobs: int, console=None, why: bool = False):
        super().__init__(jobs, console, why)
        self.records = StepRecords()

    def plan(self, entries: list[tuple[Step, Any]]) -> None:
        super().plan(entries)
        for step, reason in entries:
            self.records.planned(step, reason)

    def step_started(self, step: Step, reason: Any, attempt: int) -> None:
        super().step_started(step, reason, attempt)
        self.records.started(step, reason, attempt)

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        super().step_finished(step, result, outcome)
        self.records.finished(step, result, outcome)

    def step_skipped(self, step: Step, why: Any) -> None:
        super().step_skipped(step, why)
        self.records.skipped(step, why)

    def finished(self, result: Any) -> None:
        record = {name: sorted(getattr(result, name)) for name in ("ran", "failed", "skipped")}
        record = stamped({**record, "ok": not result.failed, "steps": self.records.listed()})
        self.out.write(jsonlib.dumps(record) + "\n")
        self.out.flush()


class RichReporter(PlainReporter):
    """On a terminal: a live bar of steps done/total and the running steps; lines print above it."""

    def __init__(self, jobs: int, console=None, why: bool = False):
        from rich.console import Console

        super().__init__(jobs, console, why)
        self.console = console if console is not None else Console()
        self.running: dict[int, str] = {}
        self.progress = None
        self.task = None

    def plan(self, entries: list[tuple[Step, Any]]) -> None:
        super().plan(entries)
        self._start(sum(1 for _step, reason in entries if getattr(reason, "dirty", True)))

    def step_started(self, step: Step, reason: Any, attempt: int) -> None:
        self._start(None)
        super().step_started(step, reason, attempt)
        self.running[step.index] = step.label()
        self._describe()

    def step_finished(self, step: Step, result: JobResult, outcome: str) -> None:
        super().step_finished(step, result, outcome)
        self.running.pop(step.index, None)
        if outcome != "retry":
            self.progress.advance(self.task)
        self._describe()

    def step_skipped(self, step: Step, why: Any) -> None:
        super().step_skipped(step, why)
        if self.progress is not None:
            self.progress.advance(self.task)

    def finished(self, result: Any) -> None:
        self._stop()
        super().finished(result)

    def close(self) -> None:
        self._stop()

    def _say(self, text: str, stderr: bool = False) -> None:
        # Step stderr too goes above the live display: on a terminal both streams are the same screen.
        from rich.text import Text

        # A Text, not a str: step output must never be read as rich markup.
        self.console.print(Text(text), soft_wrap=True, highlight=False)

    def _start(self, total: int | None) -> None:
        if self.progress is not None:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
        from rich.progress import TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.description}"), console=self.console)
        self.task = self.progress.add_task("", total=total)
        self.progress.start()

    def _describe(self) -> None:
        names = list(self.running.values())
        text = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
        self.progress.update(self.task, description=text)

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description="")
            self.progress.stop()


def _cause(reason: Any, attempt: int) -> str:
    label = getattr(reason, "label", None) or str(reason)
    return f"{label}, attempt {attempt + 1}" if attempt > 0 else label


def finish_text(result: JobResult, outcome: str) -> str:
    """`done in 0.03s`, `FAILED (exit 1)`, `FAILED (timed out after 5s), will retry`, ..."""
    if outcome == "success":
        return f"done in {max(result.finished - result.started, 0.0):.2f}s"
    if result.interrupted:
        return "interrupted"
    detail = result.error or (f"exit {result.returncode}" if result.returncode else "")
    text = f"FAILED ({detail})" if detail else "FAILED"
    return text + (", will retry" if outcome == "retry" else "")


def summary(result: Any, labels: dict[int, str]) -> str:
    """The last line of a run: `Done (3 steps run).`, `Nothing to do.` or what failed."""
    ran, failed = list(result.ran), list(result.failed)
    if not failed:
        return f"Done ({_steps(len(ran))} run)." if ran else "Nothing to do."
    errors = getattr(result, "errors", {}) or {}
    names = ", ".join(f"{i}. {labels.get(i, f'step {i}')}" + (f" ({errors[i]})" if errors.get(i) else "")
                      for i in failed)
    return f"FAILED ({_steps(len(ran))} run, {len(failed)} failed: {names})."


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"

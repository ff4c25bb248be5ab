"""Building one interval of a schedule: its workflow (filled in from a template), the build, its outcome."""
from __future__ import annotations

import math
import os
import re
import threading
from typing import Callable

from datamake.build.builder import build
from datamake.build.executors.factory import make_executor
from datamake.graph.patterns import expand_patterns
from datamake.schedule import dated
from datamake.store.storage import storage_of
from datamake.build.results import BuildResult, Scope
from datamake.build.records import Recording, StepRecords
from datamake.build.pools import Pools
from datamake.schedule.template import DatedTemplate
from datamake.errors import DatamakeError, ScheduleDeclError, UsageError
from datamake.events import Event, EventSink, ignore
from datamake.schedule.intervals import Interval
from datamake.schedule.cancel import Cancel, CancellableExecutor
from datamake.model import Workflow, relative_to
from datamake.schedule.request import Late, Outcome
from datamake.settings import BuildSettings

# The workflow as written, evaluated with these interval variables as well (given by the caller).
Load = Callable[[dict[str, str]], Workflow]
# The reporter of one interval's build; True for a preview (which shows nothing).
ReporterFor = Callable[[bool], object]


def evaluated_or_none(load: Load, variables: dict[str, str]) -> Workflow | None:
    """load(variables), but None when the workflow cannot be evaluated with these values."""
    try:
        return load(variables)
    except ScheduleDeclError:
        raise  # the schedule itself is wrong: no evaluation would do better
    except DatamakeError:
        return None


class IntervalBuilder:
    """Builds one interval like a normal run of its dated targets, on the executor a plain build would use.

    Executors are kept between intervals (one per interval building at once), so a Dask cluster
    starts once per schedule run, not once per interval.
    """

    def __init__(self, settings: BuildSettings, state_dir: str, shape=None, cancel: Cancel | None = None, *,
                 load: Load, reporter_for: ReporterFor, targets: tuple[str, ...] = (), max_active: int = 1,
                 events: EventSink = ignore, pools: Pools | None = None):
        self.settings, self.state_dir, self.shape = settings, state_dir, shape
        self.load, self.reporter_for = load, reporter_for
        self.targets, self.max_active = tuple(targets), max_active
        self.preview_state = None  # one read of the state for every interval a preview decides
        self.template = DatedTemplate.of(shape, lambda v: evaluated_or_none(load, v)) if shape else None
        self.cancel = cancel or Cancel()
        self.events = events
        self.pools = pools  # one set of slots for every interval of the run
        self._match = None
        self.idle: list[tuple[CancellableExecutor, _Slot]] = []
        self.lock = threading.Lock()
        self.shared_lock = threading.Lock()

    def close(self) -> None:
        """Close every executor (and any cluster they started)."""
        with self.lock:
            idle, self.idle = self.idle, []
        for executor, _slot in idle:
            executor.close()

    def evaluate(self, interval: Interval, variables: dict[str, str] | None = None):
        variables = variables or interval.variables()
        written = self.template.workflow(variables) if self.template else self.load(variables)
        workflow = expand_patterns(written, self.targets, storage_of(written).glob)  # this interval's files
        if not dated.dated_steps(workflow):
            raise UsageError("no step uses the interval variables ($[DATE], $[HOUR], $[INTERVAL_START], ...)",
                             hint="name dated outputs such as report/$[DATE].csv, or run without --schedule")
        return workflow

    def done(self, interval: Interval) -> bool:
        """The interval's dated targets exist: one stat per output when the names follow from the shape."""
        missing = dated.missing_steps(self.shape, interval.variables()) if self.shape else None
        if missing is None:
            return dated.targets_exist(self.evaluate(interval))
        return not missing

    def done_many(self, intervals: list[Interval]) -> dict[str, bool]:
        """done() for many intervals, their outputs' stamps read together (one listing per remote prefix)."""
        missing = dated.missing_many(self.shape, [i.variables() for i in intervals]) if self.shape else None
        if missing is None:
            return {i.key: self.done(i) for i in intervals}
        return {i.key: not gone for i, gone in zip(intervals, missing)}

    def late(self, interval: Interval, past: Callable[[str], str | None] | None = None) -> Late | None:
        """What this interval waits for: inputs its dated steps need that no step makes and that are not there
        yet, and, for `+depends-on-past` steps, the previous interval's run of them when it has not succeeded
        (`past(stable step name)` says why, or None)."""
        workflow = self.evaluate(interval)
        found = dated.late_inputs(workflow)
        name = dated.namer(self.shape, interval.variables())
        held = {s.index: why for s in dated.dated_steps(workflow)
                if s.options.depends_on_past and past and (why := past(name(s)))}
        if not found and not held:
            return None
        steps = list({s.index: s for needing in found.values() for s in needing}.values())
        steps += [workflow.steps[i] for i in held]
        blocked = dated.blocked_steps(workflow, set(found), set(held))
        paths = sorted(relative_to(n, needing[0].workdir) for n, needing in found.items())
        return Late(paths=paths + list(held.values()), steps=[s.label() for s in steps], blocked=frozenset(blocked),
                    buildable=len(blocked) < len(dated.dated_steps(workflow)),
                    waits=tuple(math.inf if s.index in held else s.options.wait for s in steps),
                    pokes=tuple(s.options.poke for s in steps))

    def build(self, interval: Interval, force: bool, succeeded: set, preview: bool = False,
              skip: frozenset = frozenset(), cleared: frozenset = frozenset()):
        """Build the interval's dated steps but the `skip` ones (they wait for an input), and what they need;
        the `cleared` ones (by stable name) are forced."""
        variables = interval.variables()
        workflow = self.evaluate(interval, variables)
        name = dated.namer(self.shape, variables)
        adapted = dated.adapt(workflow, succeeded, name)
        if preview:
            return self._run(adapted, dated.targets(workflow, force), preview=True)
        scope = Scope(workflow.path, interval.key, name)
        records = StepRecords(interval.key)
        failures: list[Event] = []  # the runner tells whether they are retried or final

        def sink(event: Event) -> None:
            failures.append(event) if event.kind == "step_failed" else self.events(event)
        chosen = self._chosen(workflow, variables)
        if cleared:  # --clear: those steps forced, within what this build selects anyway
            chosen = (chosen or dated.targets(workflow, force, skip)) + [
                "+=" + t.name for s in dated.dated_steps(workflow) if name(s) in cleared for t in s.outputs]
        if chosen is not None:  # the command line's selection, as it is: never the whole interval
            with self.shared_lock:
                result = self._run(adapted, chosen, scope=scope, records=records, events=sink)
        elif self.max_active == 1 or len(dated.dated_steps(workflow)) == len(workflow.steps):
            result = self._run(adapted, dated.targets(workflow, force, skip), scope=scope, records=records,
                               events=sink)
        else:
            result = self._in_two_phases(adapted, force, scope, skip, (records, sink))
        outcome = outcome_of(workflow, result, name, failures)
        outcome.records = records.listed()
        outcome.partial = chosen is not None and not dated.targets_exist(workflow)
        return outcome

    def _chosen(self, workflow, variables: dict[str, str]) -> list[str] | None:
        """The targets of the command line that are in this interval, `$[DATE]` & co filled in; None: none given."""
        if not self.targets:
            return None
        own = {t.name for s in dated.dated_steps(workflow) for t in s.outputs}
        chosen = []
        for target in self.targets:
            name = target.lstrip("+-=^")
            filled = _INTERVAL_REF.sub(lambda m: variables.get(m.group(1), m.group(0)), name)
            if filled == name and self.match(name) is not None and _absolute(workflow, name) not in own:
                continue  # a dated output of another interval named on the command line
            chosen.append(target[:len(target) - len(name)] + filled)
        return chosen

    @property
    def match(self):
        if self._match is None:
            self._match = dated.name_matcher(self.shape) if self.shape else (lambda _t: None)
        return self._match

    def _in_two_phases(self, workflow, force: bool, scope: Scope, skip: frozenset,
                       listeners: tuple[StepRecords, EventSink]):
        """Intervals built at once share their shared steps' names, temporaries and logs: those steps are
        brought up to date one interval at a time, then each interval's dated steps run alongside the others'."""
        records, events = listeners
        with self.shared_lock:
            first = self._run(workflow, dated.shared_targets(workflow, force, skip), scope=scope, records=records,
                              events=events)
        if not first.ok:
            return first
        second = self._run(workflow, dated.dated_only_targets(workflow, force, skip), scope=scope, records=records,
                           events=events)
        return BuildResult(plan=first.plan + second.plan, ran=first.ran + second.ran, failed=second.failed,
                           skipped=second.skipped, up_to_date=first.up_to_date + second.up_to_date,
                           errors=second.errors, logs={**first.logs, **second.logs})

    def _run(self, workflow, targets: list[str], preview: bool = False, scope: Scope | None = None,
             records: StepRecords | None = None, events: EventSink | None = None):
        settings = self.settings
        common = dict(jobs=settings.jobs, check=settings.check, auto=settings.auto, fail_fast=settings.fail_fast,
                      state_dir=self.state_dir)
        reporter = self.reporter_for(preview)
        if preview:
            return build(workflow, targets, preview=True, reporter=reporter, preview_state=self.preview_state,
                         **common)
        if records is not None:
            reporter = Recording(reporter, records)
        executor, slot = self._lease(workflow, reporter)
        try:
            return build(workflow, targets, executor=executor, reporter=reporter, scope=scope, events=events,
                         pools=self.pools,
                         **common)
        finally:
            self._give_back(executor, slot)
            reporter.close()

    def _lease(self, workflow, reporter) -> tuple[CancellableExecutor, _Slot]:
        with self.lock:
            executor, slot = self.idle.pop() if self.idle else (None, _Slot())
        slot.steps, slot.reporter = workflow.steps, reporter
        if executor is None:
            settings = self.settings
            kept = make_executor(settings.jobs, slot.step_output, kind=settings.executor,
                                 scheduler_address=settings.scheduler_address, steps=workflow.steps)
            executor = CancellableExecutor(kept, self.cancel)
        return executor, slot

    def _give_back(self, executor: CancellableExecutor, slot: _Slot) -> None:
        with self.lock:
            self.idle.append((executor, slot))



_INTERVAL_REF = re.compile(r"\$\[([A-Z_]+)\]")


def _absolute(workflow, name: str) -> str:
    return os.path.normpath(os.path.join(workflow.directory, name))


class _Slot:
    """What a kept executor's output lines belong to: re-pointed at the interval it builds now."""

    steps: tuple = ()
    reporter = None

    def step_output(self, job, line: str, stderr: bool = False) -> None:
        self.reporter.step_output(self.steps[job.key], line, stderr)


def outcome_of(workflow, result, name, failures: list[Event]) -> Outcome:
    """A BuildResult as the runner records it: step states by stable name, errors, retry policy, log."""
    steps = {}
    for step, _reason in result.plan:
        state = "failed" if step.index in result.failed else "missing" if step.index in result.skipped else "success"
        steps[name(step)] = state
    failed = [workflow.steps[i] for i in result.failed]
    error = "; ".join(f"{s.label()}: {result.errors.get(s.index, 'failed')}" for s in failed) or None
    policy = max(failed, key=lambda s: s.options.retries, default=None)
    return Outcome(ok=result.ok, steps=steps, failed=[s.label() for s in failed], error=error,
                   log_path=result.logs.get(failed[0].index) if failed else None,
                   retries=policy.options.retries if policy else 0,
                   retry_delay=policy.options.retry_delay if policy else 1.0,
                   retry_max_delay=policy.options.retry_max_delay if policy else 3600.0,
                   failures=failures, tail=failures[0].tail if failures else "",
                   ran=sorted(result.ran), failed_steps=sorted(result.failed), skipped=sorted(result.skipped))


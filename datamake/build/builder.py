"""The Builder: select, decide, then run the plan through an Executor (like ninja's Builder).

Library use::

    from datamake.language.load import load_workflow
    from datamake.build.builder import build

    result = build(load_workflow("Drakefile"), ["report.csv"], jobs=4)  # .ok .ran .failed .skipped .plan

`build()` decides every selected step up front; `preview` stops there; a run locks the state dir.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

from datamake.build import orphans
from datamake.build.attempt_logs import existing_log
from datamake.build import outputs as step_outputs
from datamake.build.jobs import InFlight, Logs, job_error, make_job, prepare_try
from datamake.build.recorder import Recorder
from datamake.build.pools import Gate, Pools, declared_pools
from datamake.build.reporting import NullReporter, Reporter
from datamake.build.results import BuildResult, RunOptions, Scope
from datamake.store.storage import storage_of
from datamake.errors import DatamakeError, Interrupted, UsageError, one_line, warn
from datamake.build.executors.base import Executor, JobResult
from datamake.build.executors.factory import make_executor
from datamake.events import Event, EventSink, ignore
from datamake.graph.step_graph import StepGraph, build_graph
from datamake.build.signals import Stop as _Stop, on_signals as _on_signals
from datamake.model import Step, Workflow, backoff
from datamake.decide.plan import Entry, Plan, decide
from datamake.decide.preview import ReadOnlyState, decide_read_only
from datamake.graph.select import select
from datamake.decide.staleness import Facts, explain
from datamake.build.lock import acquire_lock, open_store
from datamake.store.schema import StateError
from datamake.store.statedb import KEYED_READ_LIMIT, default_state_dir, step_key


def build(workflow: Workflow, targets=(), *, jobs: int = 1, check: str = "timestamp", preview: bool = False,
          why: bool = False, auto: bool = False, fail_fast: bool = False, state_dir: str | None = None,
          executor: Executor | None = None, reporter: Reporter | None = None,
          preview_state: ReadOnlyState | None = None, scope: Scope | None = None,
          events: EventSink | None = None, pools: Pools | None = None) -> BuildResult:
    """Select `targets` (SPEC §2), decide each step (§3), and unless `preview`, run them (§4).

    `why` asks the reporter to show every decision with its evidence. Raises UsageError /
    WorkflowError before anything runs, Interrupted on SIGINT/SIGTERM; step failures are
    in the result (`ok` is False), not raised. `preview_state` lets many previews share one read.
    `scope` says which interval of a schedule this build is and names its steps stably; `events`
    gets step_started, step_retried, step_failed and step_succeeded events. `pools` are the slots of
    `%pool`s, shared by every build of a run (default: this workflow's, for this build alone).
    """
    sg = build_graph(workflow)
    selection = select(sg, targets)
    state_dir = state_dir or default_state_dir(workflow.path)
    storage = storage_of(workflow)
    if preview:
        warn_to = reporter.warning if reporter else warn
        entries = decide_read_only(sg, selection, check, storage, preview_state, state_dir, warn_to)
        return BuildResult(plan=[(e.step, e.reason) for e in entries])
    own_reporter = reporter is None
    if own_reporter:
        reporter = NullReporter()
    options = RunOptions(jobs, check, auto, fail_fast, state_dir, scope or Scope(workflow.path), events or ignore,
                         pools or declared_pools(workflow), storage)
    runner = executor or _default_executor(jobs, reporter, sg)
    try:
        with acquire_lock(state_dir):
            return _run(sg, selection, options, runner, reporter, why, list(targets))
    finally:
        if executor is None:
            runner.close()
        if own_reporter:  # a live display must end even when the run is interrupted
            reporter.close()


def _run(sg: StepGraph, selection, options: RunOptions, executor: Executor, reporter, why: bool,
         argv: list[str]) -> BuildResult:
    """Decide and run under the lock, with the state store as the fingerprint cache."""
    store = open_store(options.state_dir)
    try:
        for text in store.warnings:
            reporter.warning(text)
        # Only the selected steps' records when they are few (a schedule's interval).
        keys = [step_key(sg.step(s.index)) for s in selection] if len(selection) <= KEYED_READ_LIMIT else None
        records = store.load_successes(keys)
        entries = decide(sg, selection, check=options.check, record_of=lambda step: records.get(step_key(step)),
                         hashes=store, storage=options.storage)
        pairs = [(e.step, e.reason) for e in entries]
        reporter.plan(pairs if why else [(s, r) for s, r in pairs if r.dirty])
        return Builder(sg, entries, records, store, executor, reporter, options).run(argv)
    finally:
        store.close()


def _default_executor(jobs: int, reporter, sg: StepGraph) -> Executor:
    return make_executor(jobs, on_output=lambda job, line, stderr=False: reporter.step_output(sg.step(job.key), line,
                                                                                             stderr))


class Builder:
    """Runs a decided plan: up to `jobs` in flight, re-checks, atomic outputs, retries, signals."""

    def __init__(self, sg: StepGraph, entries: list[Entry], records, store, executor: Executor, reporter,
                 options: RunOptions):
        self.sg, self.store, self.executor, self.reporter, self.opts = sg, store, executor, reporter, options
        self.records = records  # the last successes, by step key
        # Copied once (os.environ decodes every variable on each read); marked for orphans.py.
        self.environ = {**os.environ, orphans.MARK: orphans.mark(options.state_dir)}
        self.plan = Plan(sg, entries)
        self.made = frozenset(t.name for e in entries for t in e.step.outputs)
        self.result = BuildResult(plan=[(e.step, e.reason) for e in entries])
        self.reasons = {e.step.index: e.reason for e in entries}  # updated by re-checks
        self.recorder = Recorder(store, options, self.reasons, self._state_unwritable)
        self.running: dict[int, InFlight] = {}  # started and not yet finished (published, recorded)
        self.in_hand: list[JobResult] = []  # ended jobs whose results the loop is finishing
        self.retry_at: dict[int, tuple[float, int]] = {}  # index -> (when, next attempt number)
        self.logs = Logs(store, options.state_dir, options.scope, [e.step for e in entries])
        self.gate = Gate(options.pools)  # pool slots; steps held until one comes free
        self.stopping = False
        self.state_broken = False  # a state write failed (a full disk): nothing new is started
        self.starting = False  # inside executor.submit: a signal waits until the job is tracked
        self.pending_signal: int | None = None

    def run(self, argv: list[str]) -> BuildResult:
        """Run every wanted step; raises Interrupted after cleaning up on SIGINT/SIGTERM."""
        if not self.plan.entries:  # a no-op writes nothing, not even a run record
            self.reporter.finished(self.result)
            return self.result
        self.run_id = self.recorder.run_id = self.store.begin_run(argv)
        try:
            with _on_signals(self._on_signal):
                self._loop()
        except _Stop as stop:
            self._interrupt(stop.signum)
        except BaseException:  # whatever went wrong, no step outlives the run and the run row is closed
            with _on_signals(signal.SIG_IGN):
                self._stop_all("failed")
            raise
        self.result.skipped = sorted(self.plan.skipped)
        self._end_run("success" if self.result.ok else "failed")
        self.reporter.finished(self.result)
        return self.result

    def _end_run(self, status: str) -> None:
        try:
            self.store.end_run(self.run_id, status)
        except StateError as err:  # the next run on this state directory closes the row
            self._state_unwritable(err)

    def _loop(self) -> None:
        while True:
            self._launch_ready()
            if not self.running and not self.retry_at and not self.gate:
                return
            wait = self.gate.wait([when for when, _n in self.retry_at.values()])
            if self.running:
                self.in_hand = self.executor.wait(wait)
                if self.opts.jobs > 1 and all(job_error(result) is None for result in self.in_hand):
                    # The freed slots take steps already ready before these are published and recorded:
                    # at -j2 a slot would otherwise wait out the bookkeeping. A failure stops first.
                    self._launch_ready()
                while self.in_hand:
                    self._finish(self.in_hand[0])
            else:  # only retries or pool slots to wait for
                time.sleep(wait)
            self._resubmit_due()

    def _launch_ready(self) -> None:
        while not self.stopping and self._free_slots() and (held := self.gate.startable(self.sg.step)):
            self._submit(*held)
        while not self.stopping and self.plan.has_ready() and self._free_slots():
            index = self.plan.pop_ready()
            step = self.sg.step(index)
            blocker = self._recheck(index) or self._confirm(step)
            if blocker == "up to date":
                self.result.up_to_date.append(index)
                self.reporter.step_skipped(step, self.reasons[index])  # with its evidence for --why
                self.plan.succeeded(index)
            elif blocker:
                self._fail(index, blocker)
            elif self.gate.admit(step, 0):  # else held until its pool has a slot
                self._submit(index, 0)

    def _free_slots(self) -> bool:
        return len(self.running) - len(self.in_hand) < self.opts.jobs  # a job whose result is in hand has ended

    def _recheck(self, index: int) -> str | None:
        """A projected step runs only if its inputs really changed once upstream finished."""
        if self.reasons[index].label != "projected":
            return None
        step = self.sg.step(index)
        facts = Facts(made=self.made, check=self.opts.check, record=self.records.get(step_key(step)), hashes=self.store,
                      storage=self.opts.storage)
        try:
            reason = explain(step, facts)
        except UsageError as err:
            return err.message
        self.reasons[index] = reason
        return None if reason.dirty else "up to date"

    def _confirm(self, step: Step) -> str | None:
        """`+confirm` asks through the reporter (on a terminal); without one, and without -a, the step cannot run."""
        return self.reporter.confirm(step) if step.options.confirm and not self.opts.auto else None

    def _submit(self, index: int, number: int) -> None:
        step = self.sg.step(index)
        try:
            attempt = prepare_try(step, number, self.opts.storage)
            attempt.ordinal, attempt.log_path = self.logs.reserve(step, self.opts.scope.name_of(step))
        except (DatamakeError, OSError) as err:  # a remote input could not be fetched, a path is blocked
            self.gate.release(step)
            self._fail(index, one_line(err))
            return
        job = make_job(step, attempt, self.environ, prefixed=self.opts.jobs > 1, storage=self.opts.storage)
        attempt.started = time.time()
        self.running[index] = attempt
        self.reporter.step_started(step, self.reasons[index], number)
        self._emit("step_started", step, attempt.ordinal, log=attempt.log_path)
        self.starting = True
        try:
            self.executor.submit(job)
        finally:
            self.starting = False
        if self.pending_signal is not None:
            raise _Stop(self.pending_signal)

    def _on_signal(self, signum, _frame):
        # Stopping inside submit could leave a started process the executor does not know to kill.
        if self.starting:
            self.pending_signal = signum
            return
        raise _Stop(signum)

    def _finish(self, result: JobResult) -> None:
        index = result.key
        attempt = self.running.pop(index)
        self.in_hand = [r for r in self.in_hand if r is not result]
        step = self.sg.step(index)
        self.gate.release(step)
        try:
            error = job_error(result) or self._publish(step, attempt, result)
        except (DatamakeError, OSError) as err:  # an upload, remote copy or rename failed: the step failed
            error = one_line(err)
            if attempt.recorded:  # before its renames
                attempt.recorded = False
                self.recorder.unpublished()
        finally:
            attempt.cleanup()
        if not attempt.recorded:  # a success recorded before its renames looked already
            attempt.log_path = existing_log(attempt.log_path) or ""  # a step that printed nothing has none
        result = replace(result, log_path=attempt.log_path)
        self.result.logs[index] = attempt.log_path or None
        if error is None and not attempt.recorded:
            error = self.recorder.success(step, attempt, result)
        if error is None:
            self.result.ran.append(index)
            self.reporter.step_finished(step, result, "success")
            self._emit("step_succeeded", step, attempt.ordinal, log=attempt.log_path)
            self.plan.succeeded(index)
            return
        self._discard(attempt.temps.values())
        if attempt.number < step.options.retries and not self.stopping:
            delay = backoff(step.options.retry_delay, attempt.number, step.options.retry_max_delay)
            self.retry_at[index] = (time.monotonic() + delay, attempt.number + 1)
            self.recorder.attempt(step, attempt, result, "retry", error)
            self.reporter.step_finished(step, result, "retry")
            self._emit("step_retried", step, attempt.ordinal, error, result.log_tail, attempt.log_path)
            return
        self.recorder.attempt(step, attempt, result, "failed", error)
        self.reporter.step_finished(step, result, "failed")
        self._fail(index, error, (attempt.ordinal, result.log_tail, attempt.log_path))

    def _state_unwritable(self, err: StateError) -> None:
        """The state database refuses writes (a full disk): say so once and start nothing new."""
        if self.state_broken:
            return
        self.state_broken = self.stopping = True
        self.reporter.warning(f"{err.message}; no further step is started")
        for rest in self.gate.abandon(self.plan, "not started: the state database cannot be written"):
            self.reporter.step_skipped(self.sg.step(rest), self.plan.skipped[rest])

    def _discard(self, temporaries) -> None:
        """Remove a failed or stopped attempt's temporaries; one that cannot be removed is only a warning."""
        for tmp in temporaries:
            try:
                self.opts.storage.discard(tmp)
            except (DatamakeError, OSError) as err:
                self.reporter.warning(f"cannot remove temporary output {tmp}: {one_line(err)}")

    def _publish(self, step: Step, attempt: InFlight, result: JobResult) -> str | None:
        """Judge the outputs (see build/outputs.py), then move each temporary made onto its target."""
        taken = step_outputs.take(step, attempt.temps, attempt.before, scheduled=bool(self.opts.scope.interval),
                                  storage=self.opts.storage)
        if taken.error:
            return taken.error
        for text in taken.notes:
            self.reporter.step_note(step, text)
            step_outputs.note_in_log(attempt.log_path, text)
        for text in taken.warnings:
            self.reporter.warning(text)
            step_outputs.note_in_log(attempt.log_path, text)
        storage = self.opts.storage
        attempt.record = step_outputs.success_record(step, attempt.temps, taken.made, self.opts.check, self.store,
                                                     storage)
        placed = step_outputs.placed_by_rename(step, attempt.temps, taken.made)
        if placed is not None:  # every output a local rename: recorded first (see build/recorder.py)
            attempt.log_path = existing_log(attempt.log_path) or ""
            if error := self.recorder.success(step, attempt, replace(result, log_path=attempt.log_path), placed):
                return error
        for name, tmp in attempt.temps.items():
            if tmp in taken.made if taken.made is not None else storage.exists(tmp):
                storage.publish(tmp, name)
        return None

    def _fail(self, index: int, error: str, last_try: tuple[int, str, str] = (0, "", "")) -> None:
        """`last_try`: the failed try's recorded number, output tail and log (none when it never ran)."""
        self.result.failed.append(index)
        self.result.errors[index] = error
        self._emit("step_failed", self.sg.step(index), last_try[0], error, *last_try[1:])
        for below in self.plan.failed(index):
            self.reporter.step_skipped(self.sg.step(below), self.plan.skipped[below])
        if self.opts.fail_fast:
            self.stopping = True
            for rest in self.gate.abandon(self.plan, "not started: --fail-fast after a failure"):
                self.reporter.step_skipped(self.sg.step(rest), self.plan.skipped[rest])

    def _resubmit_due(self) -> None:
        now = time.monotonic()
        for index, (when, number) in sorted(self.retry_at.items()):
            if when <= now and len(self.running) < self.opts.jobs:
                del self.retry_at[index]
                if self.gate.admit(self.sg.step(index), number):
                    self._submit(index, number)

    def _emit(self, kind: str, step: Step, attempt: int, error: str = "", tail: str = "", log: str = "") -> None:
        scope = self.opts.scope
        self.opts.events(Event(kind, scope.workflow, scope.interval, step.label(), attempt, error, tail, log))

    def _interrupt(self, signum: int) -> None:
        """Stop every job, clean their temporaries, record what finished, then raise Interrupted."""
        with _on_signals(signal.SIG_IGN):  # cleanup must finish even if Ctrl-C comes again
            self._stop_all("interrupted")
        raise Interrupted(signum)

    def _stop_all(self, status: str) -> None:
        """Stop every job, clean their temporaries, record what finished and close the run as `status`."""
        self.stopping = True
        for result in [*self.in_hand, *self.executor.cancel_all()]:
            if result.key not in self.running:
                continue
            if result.ok:  # finished just before the signal: keep it
                self._finish(result)
                continue
            self._drop(result)
        for index, attempt in list(self.running.items()):  # jobs the executor did not report
            self._drop(JobResult(index, None, attempt.started, time.time(), interrupted=True, error="interrupted"))
        self.gate.abandon(self.plan, "interrupted")
        self.result.skipped = sorted(self.plan.skipped)
        self._end_run(status)

    def _drop(self, result: JobResult) -> None:
        """An interrupted job: remove its temporaries, record and report it."""
        attempt = self.running.pop(result.key)
        self.gate.release(self.sg.step(result.key))
        attempt.log_path = existing_log(attempt.log_path) or ""
        result = replace(result, log_path=attempt.log_path)
        self._discard(attempt.temps.values())
        attempt.cleanup()
        step = self.sg.step(result.key)
        self.recorder.attempt(step, attempt, result, "interrupted")
        self.reporter.step_finished(step, result, "interrupted")


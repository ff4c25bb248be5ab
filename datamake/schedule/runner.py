"""The schedule runner: due set, catch-up and backfill, per-interval retries with backoff, events; the clock is passed in."""
from __future__ import annotations

import math
import dataclasses
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from datetime import datetime, timedelta
from typing import Callable

from datamake.errors import Interrupted, StepFailure
from datamake.model import backoff
from datamake.events import Event, EventSink, ignore
from datamake.schedule.intervals import Interval
from datamake.schedule.cancel import Cancel, Wake, signals, waiting
from datamake.schedule.clock import Clock
from datamake.schedule.past import past_check
from datamake.schedule.pool import pool_of
from datamake.schedule.sla import check_slas
from datamake.schedule.sweep import sweep_due, to_check
from datamake.schedule.wording import duration_text, record_reason, rerun_reason, reopened
from datamake.schedule.request import BuildFn, DoneFn, Late, LateFn, Outcome, Request
from datamake.store.intervals import ScheduleState


class Runner:
    """Decides which intervals to build and builds them, oldest first, recording every attempt.

    The main thread owns SIGINT/SIGTERM: it sets `cancel`, which interval builds (in worker
    threads under --max-active) watch through their executor; their intervals are recorded
    as interrupted and redone by the next runner. `results` holds one summary per interval
    outcome for --json; `on_round` gets each round's summaries.
    """

    def __init__(self, request: Request, state: ScheduleState, build: BuildFn, done: DoneFn,
                 clock: Clock, say: Callable[[str], None], cancel: Cancel | None = None,
                 on_round: Callable[[list[dict]], None] | None = None, late: LateFn | None = None,
                 done_many: Callable[[list[Interval]], dict[str, bool]] | None = None,
                 events: EventSink = ignore, workflow: str = ""):
        self.req = request
        self.state = state
        self.build = build
        self.done = done
        # Many intervals' done-ness at once (one listing per remote prefix); by default one at a time.
        self.done_many = done_many or (lambda intervals: {i.key: done(i) for i in intervals})
        self.late = late or (lambda _interval, _past: None)
        self.unsettled: set[str] = set()  # intervals of this round queued or building
        self.waiting: dict[str, tuple[Interval, float]] = {}  # waiting in this round: interval, poke
        self.announced: dict[str, list[str]] = {}  # what each interval was last said to wait for
        self._records: dict = {}  # the interval records as the last plan() read them
        self.builds = 0  # intervals that built something so far; a waiting one launched before may go on now
        self.launched_at: dict[str, int] = {}
        self.adoptable: list[Interval] = []  # found done by plan() with no record: adopted by the next round
        self._done: dict[str, bool] = {}  # plan()'s done-ness of the intervals it looked at
        self.sweeping = False  # this plan() re-checked every recorded interval
        self.clock = clock
        self.say = say
        self.cancel = cancel or Cancel()
        self.on_round = on_round or (lambda _results: None)
        self.events = events
        self.workflow = workflow
        self.before: dict[str, str | None] = {}  # interval key -> its recorded state when claimed
        self.exhausted: set[str] = set()  # failed for good in this process: not retried again here
        self.failures: list[str] = []
        self.results: list[dict] = []

    def plan(self) -> list[tuple[Interval, str]]:
        """The intervals to build now, oldest first, each with why."""
        req, now = self.req, self.clock.now()
        records = self._records = self.state.intervals()
        self.adoptable = []
        if req.date is not None:
            return [(req.schedule.containing(req.date), "--date")]
        if req.first is not None or req.last is not None:
            span = req.schedule.between(req.first or req.last, req.last or req.first)
            return [(i, why) for i in span if i.end <= now and (why := self._backfill_reason(i, records))]
        since = req.start or self._last_recorded(records) or req.schedule.latest_due(now).start
        if not req.catchup:
            since = max(since, req.schedule.latest_due(now).start)
        wanted = {i.key: i for i in req.schedule.due(now, since)}
        for key, rec in records.items():  # older unfinished business, outside the window
            if key not in wanted and datetime.fromisoformat(rec.end) <= now and reopened(rec, req.rerun):
                wanted[key] = req.schedule.containing(datetime.fromisoformat(rec.start))
        self._done = self._check_done(list(wanted.values()), records, now)
        out = [(i, why) for i in wanted.values() if i.key not in self.exhausted
               and (why := self._catch_up_reason(i, records))]
        return sorted(out, key=lambda pair: pair[0].start)

    def _check_done(self, wanted: list[Interval], records, now: datetime) -> dict[str, bool]:
        """Which intervals' outputs all exist: records trusted where sweep.to_check says, the rest looked up
        together (one listing per remote prefix). --rerun decides by the records alone."""
        if self.req.rerun != "missing":
            self.sweeping = False
            return {}
        self.sweeping = sweep_due(self.state.last_sweep(), now, self.req.sweep)
        trusted, checked = to_check(wanted, records, self.sweeping, self.exhausted)
        return {**dict.fromkeys(trusted, True), **self.done_many(checked)}

    def _last_recorded(self, records) -> datetime | None:
        starts = [datetime.fromisoformat(r.start) for r in records.values()]
        return max(starts) if starts else None

    def _backfill_reason(self, interval: Interval, records) -> str | None:
        rec = records.get(interval.key)
        if self.req.rerun != "missing":
            return rerun_reason(rec, self.req.rerun)
        return record_reason(rec) or "in the backfill range"

    def _catch_up_reason(self, interval: Interval, records) -> str | None:
        rec = records.get(interval.key)
        if self.req.rerun != "missing":
            return rerun_reason(rec, self.req.rerun)
        if rec is not None and rec.state == "failed" and not rec.waiting_for:
            return None  # alerted once already: it waits for --rerun failed
        if rec is None and self._is_done(interval):
            # Its dated outputs exist but datamake never built it (a cron job made them, the schedule
            # changed, the state was lost): adopt it as done instead of building history again.
            self.adoptable.append(interval)
            return None
        why = record_reason(rec)
        if why is None and not self._is_done(interval):
            why = "targets missing"
        return why

    def run(self) -> int:
        """Build what is due (then, without --once, keep waking at each interval's end).

        Returns 0; raises StepFailure when an interval failed for good, Interrupted on a signal.
        """
        with signals(self.cancel):
            for key in self.state.recover():
                self.say(f"interval {key}: its runner stopped mid-build; building it again")
            while True:
                self._round()
                if self.req.once or self.req.date or self.req.first or self.req.last:
                    break
                if self.req.schedule.over(self.clock.now()) and not self.waiting:
                    self.say("the schedule is over: no interval falls due any more")
                    break
                self._sleep_until_next()
        if self.failures:
            raise StepFailure(f"{len(self.failures)} interval(s) failed: {', '.join(self.failures)}")
        return 0

    def _round(self) -> None:
        start = len(self.results)
        self.waiting = {}
        if not (self.req.date or self.req.first or self.req.last) and (paused := self.state.paused_since()):
            self.say(f"schedule paused since {paused}; nothing built (datamake --resume to go on)")
            return
        try:
            todo = self.plan()
            self._adopt()
            if self.sweeping:
                self.state.swept(self.clock.now().isoformat(timespec="seconds"))
                self.req = dataclasses.replace(self.req, sweep=False)  # --sweep: once, not every round
            if not todo and self.req.once:
                self.say("nothing due")
            self._build_all([i for i, _ in todo])
            check_slas(self.req, self.state, self.clock.now(), self.workflow, self.events, self.say)
        finally:
            self.on_round(self.results[start:])

    def _is_done(self, interval: Interval) -> bool:
        known = self._done.get(interval.key)
        return self.done(interval) if known is None else known

    def _adopt(self) -> None:
        """Record the intervals plan() found done without a record as `adopted`, one line for them all."""
        adopted, self.adoptable = self.adoptable, []
        for interval in adopted:
            self.state.mark(interval.key, interval.start.isoformat(), interval.end.isoformat(), "adopted")
            self._summary(interval, "adopted", Outcome(ok=True))
        if adopted:
            span = adopted[0].key if len(adopted) == 1 else f"{adopted[0].key} .. {adopted[-1].key}"
            self.say(f"adopted {len(adopted)} interval(s) whose outputs already exist: {span}")

    def _sleep_until_next(self) -> None:
        now = self.clock.now()
        wake = self.req.schedule.containing(now).end
        poke = min((p for _i, p in self.waiting.values()), default=None)
        if poke is not None and now + timedelta(seconds=poke) < wake:
            self.say(f"{len(self.waiting)} interval(s) waiting for input; looking again in {duration_text(poke)}")
            self._sleep(poke)
            return
        self.say(f"next interval due at {wake.astimezone(self.req.schedule.tz).isoformat()}")
        self._sleep((wake - now).total_seconds() + 0.01)

    def _sleep(self, seconds: float) -> None:
        try:
            with waiting(self.cancel):
                self.clock.sleep(seconds)
        except Wake:
            pass
        self._stop_if_cancelled()

    def _stop_if_cancelled(self) -> None:
        if self.cancel.signum is not None:
            raise Interrupted(self.cancel.signum)

    def _build_all(self, intervals: list[Interval]) -> None:
        """Run intervals up to --max-active at once; a failed one waits for its retry while others go on."""
        queue = [(0.0, i) for i in intervals]  # (ready at, monotonic; interval)
        self.unsettled.update(i.key for i in intervals)
        tries: dict[str, int] = {}
        with pool_of(self.req.max_active) as pool:
            active: dict[Future, Interval] = {}
            try:
                while (queue or active) and self.cancel.signum is None:
                    self._launch(pool, queue, active, tries)
                    if not active:
                        self._sleep(min(at for at, _ in queue) - time.monotonic())
                        continue
                    for future in self._wait(active, queue):
                        self._settle(active.pop(future), future, tries, queue)
            finally:
                self._drain(active, tries, queue)
        self._stop_if_cancelled()

    def _wait(self, active: dict[Future, Interval], queue) -> set[Future]:
        try:
            with waiting(self.cancel):
                return wait(active, timeout=self._retry_wait(queue), return_when=FIRST_COMPLETED)[0]
        except Wake:
            return set()

    def _drain(self, active: dict[Future, Interval], tries, queue) -> None:
        """After a signal or an error: let the running intervals stop (cancel is set) and record each."""
        if not active:
            return
        if self.cancel.signum is None:  # an error in one interval: stop the others as Ctrl-C would
            self.cancel.stop(signal.SIGINT)
        for future in list(active):
            try:
                self._settle(active.pop(future), future, tries, queue)
            except Exception:  # the first error is already on its way out
                pass

    def _launch(self, pool, queue, active, tries) -> None:
        queue.sort(key=lambda pair: (pair[0] > time.monotonic(), pair[1].start))
        while queue and len(active) < self.req.max_active and queue[0][0] <= time.monotonic():
            _, interval = queue.pop(0)
            tries[interval.key] = tries.get(interval.key, 0) + 1
            self.launched_at[interval.key] = self.builds
            active[pool.submit(self._attempt, interval)] = interval

    def _retry_wait(self, queue) -> float | None:
        return max(0.0, min(at for at, _ in queue) - time.monotonic()) if queue else None

    def _attempt(self, interval: Interval) -> tuple[int | None, Outcome]:
        late = self.late(interval, past_check(self.req.schedule, self.state, self.unsettled, interval))
        if late is not None and not (late.buildable and self._news(interval, late)):
            return None, Outcome(ok=False, late=late)
        before = self.state.get(interval.key)
        self.before[interval.key] = before.state if before else None
        attempt = self.state.claim(interval.key, interval.start.isoformat(), interval.end.isoformat(),
                                   os.getpid(), None)
        if attempt is None:
            return None, Outcome(ok=True)
        cleared = self.state.cleared(interval.key)  # --clear: rebuilt whatever their state
        succeeded, force = self.state.succeeded(interval.key) - cleared, self.req.rerun == "all"
        try:
            outcome = self.build(interval, force, succeeded, skip=late.blocked if late else frozenset(),
                                 **({"cleared": cleared} if cleared else {}))
            outcome.late = late
            return attempt, outcome
        except Interrupted as exc:  # stopped cleanly mid-build: the next runner redoes it
            self.state.finish(attempt, interval.key, "interrupted", error=str(exc))
            raise
        except BaseException as exc:  # a workflow error for this interval: record it, then let it surface
            self.state.finish(attempt, interval.key, "failed", error=str(exc))
            raise

    def _news(self, interval: Interval, late: Late) -> bool:
        """Worth building the steps that need no late input: not done yet for this set of late inputs."""
        if interval.key in self.announced:
            return self.announced[interval.key] != late.paths
        rec = self._records.get(interval.key)
        return not (rec is not None and rec.state == "waiting" and list(rec.waiting_for) == late.paths)

    def _settle(self, interval: Interval, future: Future, tries, queue) -> None:
        self.unsettled.discard(interval.key)
        try:
            attempt, outcome = future.result()
        except Interrupted as exc:
            self.cancel.stop(exc.exit_code - 128)
            self._summary(interval, "interrupted", Outcome(ok=False))
            return
        if outcome.late is not None and (attempt is None or outcome.ok):
            self._settle_partly(interval, attempt, outcome, queue)
            return
        if attempt is None:
            self.say(f"interval {interval.key}: another runner is building it")
            self._summary(interval, "busy", outcome)
            return
        if outcome.ok:
            self._succeeded(interval, attempt, outcome, queue)
        elif tries[interval.key] <= outcome.retries:
            self._retry(interval, attempt, outcome, tries[interval.key], queue)
        else:
            self._failed(interval, attempt, outcome)

    def _succeeded(self, interval: Interval, attempt: int, outcome: Outcome, queue) -> None:
        self.state.finish(attempt, interval.key, "partial" if outcome.partial else "success", steps=outcome.steps)
        self.say(f"interval {interval.key}: success ({len(outcome.ran)} step(s) ran)")
        self._summary(interval, "success", outcome)
        self._emit("interval_succeeded", interval, attempt, outcome)
        if self.before.get(interval.key) == "failed":
            self._emit("recovered", interval, attempt, outcome)
        self._look_again(interval, queue)

    def _retry(self, interval: Interval, attempt: int, outcome: Outcome, n: int, queue) -> None:
        """Record the failed attempt `n` and queue the next one after its backoff."""
        delay = backoff(outcome.retry_delay, n - 1, outcome.retry_max_delay)
        when = (self.clock.now() + timedelta(seconds=delay)).isoformat(timespec="seconds")
        self.state.finish(attempt, interval.key, "retry", error=outcome.error, next_attempt_at=when,
                          steps=outcome.steps, log_path=outcome.log_path)
        self.say(f"interval {interval.key}: failed ({outcome.error}); retry {n} of {outcome.retries} in {delay:g}s")
        queue.append((time.monotonic() + delay, interval))
        self.unsettled.add(interval.key)
        for failure in outcome.failures:
            self.events(dataclasses.replace(failure, kind="step_retried"))

    def _failed(self, interval: Interval, attempt: int, outcome: Outcome) -> None:
        """Failed after its last retry: recorded, alerted once, and left alone until --rerun failed."""
        self.state.finish(attempt, interval.key, "failed", error=outcome.error, steps=outcome.steps,
                          log_path=outcome.log_path)
        self.say(f"interval {interval.key}: failed ({outcome.error})")
        self.failures.append(interval.key)
        self.exhausted.add(interval.key)
        self._summary(interval, "failed", outcome)
        for failure in outcome.failures:
            self.events(failure)
        self._emit("interval_failed", interval, attempt, outcome)

    def _settle_partly(self, interval: Interval, attempt: int | None, outcome: Outcome, queue) -> None:
        """An interval that waits for a late input, after building (or not) the steps that need none."""
        if attempt is not None:  # what needed no late input was built meanwhile
            self.state.finish(attempt, interval.key, "waiting", steps=outcome.steps)
        self._settle_late(interval, outcome.late)
        if interval.key in self.waiting and self.launched_at.get(interval.key, 0) < self.builds:
            del self.waiting[interval.key]  # an earlier interval built while this one looked
            queue.append((0.0, interval))
            self.unsettled.add(interval.key)
        if attempt is not None:
            self._look_again(interval, queue)

    def _settle_late(self, interval: Interval, late: Late) -> None:
        """Record a waiting interval, or fail it once its wait is over (the failure hook fires once)."""
        wait = late.wait(self.req.wait)
        until = None if math.isinf(wait) else interval.end + timedelta(seconds=wait)  # +depends-on-past: no end
        shown, key = ", ".join(late.paths), interval.key
        span = (key, interval.start.isoformat(), interval.end.isoformat())
        if until is None or self.clock.now() < until:
            self.state.mark(*span, "waiting", error=f"waiting for {shown}", waiting_for=late.paths,
                            wait_until=until.isoformat(timespec="seconds") if until else None)
            self.waiting[key] = (interval, late.poke(self.req.poke))
            if self.announced.get(key) != late.paths:  # once, not at every poke
                self.announced[key] = late.paths
                tail = f" (until {until.astimezone(self.req.schedule.tz).isoformat()})" if until else ""
                self.say(f"interval {key}: waiting for {shown}{tail}")
            self._summary(interval, "waiting", Outcome(ok=False))
            return
        error = f"input never arrived: {shown} (waited {duration_text(wait)})"
        before = self.state.get(key)
        if before is not None and before.state == "failed" and before.waiting_for:
            self.say(f"interval {key}: {error}; reported before")  # one alert, not one per tick
            return
        self.state.mark(*span, "failed", error=error, waiting_for=late.paths,
                        wait_until=until.isoformat(timespec="seconds"))
        self.say(f"interval {key}: failed ({error})")
        self.failures.append(key)
        outcome = Outcome(ok=False, failed=late.steps, error=error)
        self._summary(interval, "failed", outcome)
        self._emit("waiting_timed_out", interval, 0, outcome)

    def _look_again(self, built: Interval, queue) -> None:
        """A success may have made what a later interval of this round waits for (its yesterday's file)."""
        self.builds += 1
        for key, (interval, _poke) in list(self.waiting.items()):
            if interval.start > built.start:
                del self.waiting[key]
                queue.append((0.0, interval))
                self.unsettled.add(key)

    def _summary(self, interval: Interval, status: str, outcome: Outcome) -> None:
        self.results.append({"key": interval.key, "status": status, "ran": outcome.ran,
                             "failed": outcome.failed_steps, "skipped": outcome.skipped, "steps": outcome.records})

    def _emit(self, kind: str, interval: Interval, attempt_id: int, outcome: Outcome) -> None:
        """An interval event: its failed steps, error, the first failure's output tail and log."""
        number = self.state.get(interval.key).attempts if attempt_id else 0
        self.events(Event(kind, self.workflow, interval.key, ", ".join(outcome.failed), number,
                          outcome.error or "", outcome.tail, outcome.log_path or "",
                          detail={k: v for k, v in interval.own_variables().items() if k != "DATE"}))

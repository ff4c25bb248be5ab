"""The schedule Runner on a real state store, with a clock the test moves: catch-up, the next day,
lost targets, retries, failures for good, --date, and the long-running loop waking at each interval's end."""
from __future__ import annotations

import signal
from datetime import datetime, timedelta, timezone

import pytest

from datamake.errors import Interrupted, StepFailure
from datamake.schedule.cancel import Cancel
from datamake.schedule.intervals import Interval, Schedule
from datamake.schedule.request import Outcome, Request
from datamake.schedule.runner import Runner
from datamake.store.intervals import ScheduleState

DAILY = Schedule("daily")
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


class MovingClock:
    """The time is what the test says; a sleep moves it on by as much, at once."""

    def __init__(self, at: str):
        self.at = datetime.fromisoformat(at).replace(tzinfo=timezone.utc)
        self.slept: list[float] = []
        self.on_sleep = lambda: None

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)
        self.on_sleep()


class Project:
    """Each interval's build writes out/KEY.txt; `failing` says how many of an interval's tries fail."""

    def __init__(self, tmp_path):
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.state = ScheduleState(str(tmp_path / ".datamake"), "wf")
        self.failing: dict[str, int] = {}
        self.built: list[str] = []
        self.said: list[str] = []

    def build(self, interval: Interval, force: bool, succeeded: set, skip=frozenset()) -> Outcome:
        self.built.append(interval.key)
        if self.failing.get(interval.key, 0) > 0:
            self.failing[interval.key] -= 1
            return Outcome(ok=False, steps={"out/$[DATE].txt": "failed"}, failed=["out"], error="exit 1",
                           retries=1, retry_delay=0.0, failed_steps=[0])
        (self.out / f"{interval.key}.txt").write_text(interval.key)
        return Outcome(ok=True, steps={"out/$[DATE].txt": "success"}, ran=[0])

    def done(self, interval: Interval) -> bool:
        return (self.out / f"{interval.key}.txt").exists()

    def runner(self, clock: MovingClock, **request) -> Runner:
        req = Request(DAILY, start=START, **request)
        return Runner(req, self.state, self.build, self.done, clock, self.said.append)

    def states(self) -> dict[str, tuple[str, int]]:
        return {key: (rec.state, rec.attempts) for key, rec in self.state.intervals().items()}


@pytest.fixture
def project(tmp_path):
    made = Project(tmp_path)
    yield made
    made.state.close()


def test_catch_up_builds_every_due_interval_oldest_first_then_nothing_until_the_next_day(project):
    clock = MovingClock("2026-11-04T12:00")
    assert [(i.key, why) for i, why in project.runner(clock).plan()] == [
        ("2026-11-01", "never built"), ("2026-11-02", "never built"), ("2026-11-03", "never built")]
    assert project.runner(clock).run() == 0
    assert project.built == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert project.states() == {f"2026-11-0{d}": ("success", 1) for d in (1, 2, 3)}
    project.runner(clock).run()
    assert project.said[-1] == "nothing due" and len(project.built) == 3
    clock.at += timedelta(days=1)  # the 4th is over now
    project.runner(clock).run()
    assert project.built[3:] == ["2026-11-04"]


def test_an_interval_whose_targets_are_gone_is_built_again(project):
    clock = MovingClock("2026-11-03T08:00")
    project.runner(clock).run()
    (project.out / "2026-11-01.txt").unlink()
    assert [(i.key, why) for i, why in project.runner(clock).plan()] == [("2026-11-01", "targets missing")]
    project.runner(clock).run()
    assert project.built == ["2026-11-01", "2026-11-02", "2026-11-01"]
    assert project.states()["2026-11-01"] == ("success", 2)


def test_a_failed_try_is_retried_and_one_that_fails_for_good_is_reported_once_and_rerun_on_request(project):
    clock = MovingClock("2026-11-03T08:00")
    project.failing = {"2026-11-01": 1, "2026-11-02": 5}
    with pytest.raises(StepFailure, match="1 interval\\(s\\) failed: 2026-11-02"):
        project.runner(clock).run()
    # each retried once, at once (no delay), the oldest first
    assert project.built == ["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-02"]
    assert project.states() == {"2026-11-01": ("success", 2), "2026-11-02": ("failed", 2)}
    assert project.state.steps("2026-11-02") == {"2026-11-02": {"out/$[DATE].txt": "failed"}}
    assert project.runner(clock).plan() == []  # it alerted once: later ticks leave it alone
    assert [(i.key, why) for i, why in project.runner(clock, rerun="failed").plan()] == [
        ("2026-11-02", "last attempt failed")]


def test_date_builds_that_one_interval_even_when_done(project):
    clock = MovingClock("2026-11-03T08:00")
    project.runner(clock).run()
    project.runner(clock, date=datetime(2026, 11, 1, 15, tzinfo=timezone.utc)).run()
    assert project.built[2:] == ["2026-11-01"]


def test_the_long_running_runner_wakes_at_each_intervals_end(project):
    clock = MovingClock("2026-11-02T12:00")
    runner = project.runner(clock, once=False)
    runner.cancel = Cancel()
    clock.on_sleep = lambda: len(clock.slept) == 2 and runner.cancel.stop(signal.SIGTERM)
    with pytest.raises(Interrupted):
        runner.run()
    assert project.built == ["2026-11-01", "2026-11-02"]  # the 2nd once the clock passed its end
    assert clock.slept[0] == pytest.approx(12 * 3600 + 0.01)
    assert clock.at > datetime(2026, 11, 4, tzinfo=timezone.utc)
    assert "next interval due at 2026-11-03T00:00:00+00:00" in project.said

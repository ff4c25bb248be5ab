"""What a schedule Runner is asked (the Request) and told back by each interval's build (its Outcome)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from datamake.events import Event
from datamake.schedule.intervals import Interval, Schedule


@dataclass(frozen=True)
class Request:
    """What the schedule flags ask for; times are UTC instants."""

    schedule: Schedule
    start: datetime | None = None
    first: datetime | None = None  # --from
    last: datetime | None = None  # --to
    date: datetime | None = None
    rerun: str = "missing"
    max_active: int = 1
    once: bool = True
    catchup: bool = True  # False: only the newest due interval (plus unfinished recorded ones)
    wait: float = 86400.0  # how long a late input is waited for, from the interval's end (`%schedule wait:`)
    poke: float = 300.0  # how often the long-running runner looks again (`%schedule poke:`)
    sla: float | None = None  # seconds after an interval's end by which it should be done (`sla:`)
    sweep: bool = False  # check every recorded interval's outputs now, not only the recent ones (--sweep)


@dataclass(frozen=True)
class Late:
    """Inputs an interval needs that nobody makes and that are not there yet (by their shown names)."""

    paths: list[str]
    steps: list[str]  # labels of the steps that need them
    blocked: frozenset[int] = frozenset()  # the steps that wait: those needing them, and their dependants
    buildable: bool = False  # some dated steps need none of them: build those meanwhile
    waits: tuple[float | None, ...] = ()  # each such step's `[wait:...]` (None: the schedule's)
    pokes: tuple[float | None, ...] = ()  # each such step's `[poke:...]`

    def wait(self, default: float) -> float:
        """How long the interval waits: as long as its most patient step."""
        return max((default if w is None else w for w in self.waits), default=default)

    def poke(self, default: float) -> float:
        return min((default if p is None else p for p in self.pokes), default=default)


@dataclass
class Outcome:
    """What one attempt at one interval did."""

    ok: bool
    steps: dict[str, str] = field(default_factory=dict)  # step name -> success/failed/missing
    failed: list[str] = field(default_factory=list)  # labels of the failed steps
    error: str | None = None
    log_path: str | None = None
    retries: int = 0  # how many retries the failed steps allow
    retry_delay: float = 1.0
    retry_max_delay: float = 3600.0
    failures: list[Event] = field(default_factory=list)  # step_failed events of the failed steps
    tail: str = ""  # the first failed step's last output lines
    partial: bool = False  # only some steps were asked for, and the interval is not complete
    ran: list[int] = field(default_factory=list)  # step indexes, as a plain build's --json
    failed_steps: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    late: Late | None = None  # not built: it waits for these inputs
    records: list[dict] = field(default_factory=list)  # build.records.StepRecords of each step touched


# build(interval, force, succeeded step names, skip=step indexes) -> Outcome; done(interval) -> targets exist;
# late(interval) -> the inputs it waits for, or None when it can be built
BuildFn = Callable[[Interval, bool, set], Outcome]
DoneFn = Callable[[Interval], bool]
LateFn = Callable[[Interval, Callable[[str], "str | None"]], "Late | None"]

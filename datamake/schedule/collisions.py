"""Two intervals whose dated outputs get the same name would overwrite each other: found before anything runs."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from datamake.errors import WorkflowError
from datamake.model import Workflow, relative_to
from datamake.schedule import dated
from datamake.schedule.intervals import Interval, Schedule, resolve_local

HINT = ("name sub-daily outputs with $[INTERVAL_START] (it carries the UTC offset), or $[HOUR] and $[MINUTE] "
        "under --tz UTC")


def check_distinct_names(shape: Workflow, schedule: Schedule, now: datetime) -> None:
    """Raise WorkflowError, at the output's place, when two intervals give a dated output the same name.

    Looks at the two days before `now` (where a period shorter than the names' resolution shows)
    and at the next fall-back day of the zone within a year (where a repeated HOUR shows).
    """
    if schedule.once:
        return
    for target, step in _dated_outputs(shape):
        seen: dict[str, Interval] = {}
        for interval in _sample(schedule, now):
            name = dated.fill(target.name, interval.variables())
            other = seen.setdefault(name, interval)
            if other is not interval:
                raise WorkflowError(f"intervals {other.key} and {interval.key} both name their output "
                                    f"{relative_to(name, step.workdir)}", target.loc, hint=HINT)


def _dated_outputs(shape: Workflow):
    for step in dated.dated_steps(shape):
        for target in step.outputs:
            if any(s in target.name for s in dated.SENTINELS.values()):
                yield target, step


def _sample(schedule: Schedule, now: datetime) -> list[Interval]:
    recent = schedule.between(now - timedelta(days=2), now)
    fall_back = _next_fall_back(schedule, now)
    if fall_back is None:
        return recent
    start = resolve_local(datetime.combine(fall_back, time()), schedule.tz)
    return recent + schedule.between(start, start + timedelta(hours=25) - timedelta(microseconds=1))


def _next_fall_back(schedule: Schedule, now: datetime):
    """The first local date within a year of `now` whose day is longer than 24 h, if the zone has one."""
    day = now.astimezone(schedule.tz).date()
    for _ in range(366):
        start = resolve_local(datetime.combine(day, time()), schedule.tz)
        end = resolve_local(datetime.combine(day + timedelta(days=1), time()), schedule.tz)
        if end - start > timedelta(hours=24):
            return day
        day += timedelta(days=1)
    return None

"""5-field cron expressions: checked strictly, common mistakes named, ticks read on a naive wall clock.

cronsim parses and iterates (see docs/schedule.md, "Why cronsim"): it rejects what it cannot
honour (an impossible date, croniter's random `R`) instead of guessing, and it is faster. The
checks here catch what any cron parser accepts but a schedule should not: a step that does not
divide its field, so the intervals it makes are uneven (`*/90` fires every hour).
"""
from __future__ import annotations

import re
from datetime import datetime

from cronsim import CronSim, CronSimError

from datamake.errors import UsageError

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_SPANS = {0: 60, 1: 24, 3: 12}  # fields where `*/N` must divide evenly to give even intervals
_UNITS = {0: "m", 1: "h"}
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
HINT = "use hourly, daily, weekly, monthly, yearly, @daily-style presets, every:30m, @once or 5-field cron"


def check(spec: str) -> None:
    """Raise UsageError naming the mistake when `spec` is not a cron expression a schedule can use."""
    parts = spec.split()
    if len(parts) != 5:
        raise UsageError(f"bad schedule: {spec!r}", hint=HINT)
    for index, part in enumerate(parts):
        for element in part.split(","):
            _check_element(spec, index, element)
    try:
        CronSim(spec, datetime(2000, 1, 1))
    except CronSimError as exc:
        never = _never_fires(parts)
        if never:
            raise UsageError(never, hint="pick a day every listed month has, or L for the last day") from None
        raise UsageError(f"bad schedule: {spec!r}: {str(exc).lower()}", hint=HINT) from None


def _check_element(spec: str, index: int, element: str) -> None:
    field = FIELDS[index]
    if re.match(r"R(?![A-Za-z])", element, re.I):
        raise UsageError(f"random cron field {element!r} in {spec!r}: R picks another {field} on every run, "
                         "so the intervals would change from run to run",
                         hint=f"write a fixed {field}, e.g. {'17' if index < 2 else '1'}")
    step = re.fullmatch(r"\*/(\d+)", element)
    if step and index in _SPANS:
        n, span = int(step.group(1)), _SPANS[index]
        if n == 0 or span % n:
            fix = f"use every:{n}{_UNITS[index]} for a fixed period" if index in _UNITS and n else \
                f"use a step that divides {span}"
            raise UsageError(f"{element!r} in the {field} field of {spec!r} does not divide {span}: the intervals "
                             f"would be uneven ({'it fires at 0 of every hour' if n >= span else 'the last one is short'})",
                             hint=fix)


def _never_fires(parts: list[str]) -> str | None:
    """`0 0 31 2 *`: a day of month that none of the listed months has."""
    day, month = parts[2], parts[3]
    if not (day.isdigit() and re.fullmatch(r"\d+(,\d+)*", month)):
        return None
    months = [int(m) for m in month.split(",")]
    if all(1 <= m <= 12 and int(day) > _MONTH_DAYS[m] for m in months):
        names = " or ".join(_MONTHS[m] for m in months)
        return f"cron expression {' '.join(parts)!r} never fires: {names} has no day {day}"
    return None


def next_tick(spec: str, wall: datetime) -> datetime:
    """The first wall-clock tick strictly after naive `wall`."""
    return next(CronSim(spec, wall))


def previous_ticks(spec: str, wall: datetime):
    """Wall-clock ticks at or before naive `wall`, newest first."""
    return CronSim(spec, wall, reverse=True)

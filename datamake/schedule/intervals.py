"""Interval math for schedules: calendar grids and cron ticks in a time zone, DST-correct."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datamake.errors import UsageError
from datamake.schedule import cron

UTC = timezone.utc
GRIDS = ("hourly", "daily", "weekly", "monthly", "yearly")
PRESETS = {"@hourly": "hourly", "@daily": "daily", "@midnight": "daily", "@weekly": "weekly",
           "@monthly": "monthly", "@yearly": "yearly", "@annually": "yearly"}
INTERVAL_VARS = ("DATE", "DATE_NODASH", "HOUR", "MINUTE", "INTERVAL_START", "INTERVAL_END")
# Earlier intervals' values: `$[DATE-1]` is DATE of the interval before, up to MAX_BACK intervals back.
MAX_BACK = 31
EARLIER_BASES = ("DATE", "DATE_NODASH", "HOUR", "MINUTE", "INTERVAL_START")
EARLIER_VARS = tuple(f"{name}-{k}" for name in EARLIER_BASES for k in range(1, MAX_BACK + 1))
DAY = timedelta(days=1)
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # the boundary after the last interval of @once
_PERIOD = re.compile(r"(\d+)\s*(m|h|d)\Z")
_PERIOD_UNITS = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, order=True)
class Interval:
    """One `[start, end)` period of a schedule; `start`/`end` are UTC, `tz` is the schedule's zone."""

    start: datetime
    end: datetime
    key: str = field(compare=False)
    tz: ZoneInfo = field(compare=False, repr=False)
    schedule: "Schedule | None" = field(default=None, compare=False, repr=False)  # for earlier intervals

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.tz)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.tz)

    def variables(self) -> dict[str, str]:
        """DATE, DATE_NODASH, HOUR, MINUTE, INTERVAL_START, INTERVAL_END, and DATE-1.. of earlier intervals."""
        own = self.own_variables()
        if self.schedule is None:
            return own
        earlier = self
        for k in range(1, MAX_BACK + 1):
            earlier = self.schedule.before(earlier)
            values = earlier._own
            own.update((f"{name}-{k}", values[name]) for name in EARLIER_BASES)
        return own

    def own_variables(self) -> dict[str, str]:
        """This interval's DATE, DATE_NODASH, HOUR, MINUTE, INTERVAL_START, INTERVAL_END (a new dict)."""
        return dict(self._own)

    @cached_property
    def _own(self) -> dict[str, str]:
        # Computed once per interval: each of a year of intervals also reads its 31 predecessors' values,
        # and Schedule.before hands out the same Interval objects.
        start = self.local_start
        return {
            "DATE": start.strftime("%Y-%m-%d"),
            "DATE_NODASH": start.strftime("%Y%m%d"),
            "HOUR": start.strftime("%H"),
            "MINUTE": start.strftime("%M"),
            "INTERVAL_START": start.isoformat(),
            "INTERVAL_END": self.local_end.isoformat(),
        }


def zone(name: str | None) -> ZoneInfo:
    """A time zone by IANA name (default UTC); an unknown name is a usage error."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone: {name}", hint="use an IANA name such as UTC or Europe/Paris") from None


def resolve_local(naive: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: the first occurrence if ambiguous, the end of the gap if missing."""
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap fold=1 lands before the transition and fold=0 after: bisect for the transition itself.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after = first.astimezone(tz).utcoffset()
    lo_min, hi_min = 0, int((first - lo).total_seconds() // 60)
    while hi_min - lo_min > 1:
        mid = (lo_min + hi_min) // 2
        if (lo + timedelta(minutes=mid)).astimezone(tz).utcoffset() == after:
            hi_min = mid
        else:
            lo_min = mid
    return lo + timedelta(minutes=hi_min)


class Schedule:
    """A schedule SPEC in a zone: a calendar grid (hourly..yearly), a 5-field cron expression, a fixed
    period (`every:30m`, anchored at `anchor`), or `@once` (one interval starting at `anchor`).

    `end` (UTC) bounds it: no interval starts at or after it.
    """

    def __init__(self, spec: str, tz: str | None = None, anchor: datetime | None = None,
                 end: datetime | None = None):
        self.spec = spec.strip()
        self.tz = zone(tz)
        self.tz_name = tz or "UTC"
        self.end = end
        self.period: timedelta | None = None
        self.once = False
        self.anchor = anchor
        self._before: dict[datetime, Interval] = {}
        lowered = self.spec.lower()
        self.grid = PRESETS.get(lowered, lowered)
        if self.grid in GRIDS:
            return
        self.grid = None
        if lowered.startswith("every:"):
            self.period = _period(self.spec[len("every:"):])
            # Without start:, periods count from the Unix epoch in the zone: every:30m ticks at :00 and :30.
            self.anchor = anchor or resolve_local(datetime(1970, 1, 1), self.tz)
        elif lowered == "@once":
            if anchor is None:
                raise UsageError("@once needs start: (when its one interval begins)",
                                 hint="e.g. %schedule @once start:2026-11-01")
            self.once = True
        else:
            cron.check(self.spec)

    def __repr__(self) -> str:
        return f"Schedule({self.spec!r}, tz={self.tz_name!r})"

    @property
    def keyed_by_date(self) -> bool:
        """True when no two intervals start on the same local date, so DATE is a unique key."""
        if self.grid or self.once:
            return self.grid != "hourly"
        if self.period is not None:
            return self.period % DAY == timedelta(0)
        minute, hour = self.spec.split()[:2]
        return minute.isdigit() and hour.isdigit()

    def floor(self, t: datetime) -> datetime:
        """The latest interval boundary at or before instant `t` (UTC in, UTC out)."""
        if self.once:
            return self.anchor
        if self.period is not None:
            return self.anchor + ((t - self.anchor) // self.period) * self.period
        if self.grid == "hourly":
            local = t.astimezone(self.tz)
            return (t - timedelta(minutes=local.minute, seconds=local.second,
                                  microseconds=local.microsecond)).astimezone(UTC)
        if self.grid:
            day = self._grid_day(t.astimezone(self.tz).date())
            boundary = resolve_local(datetime.combine(day, time()), self.tz)
            if boundary > t:
                boundary = resolve_local(datetime.combine(self._grid_day(day - timedelta(days=1)), time()), self.tz)
            return boundary
        return self._cron_prev(t)

    def next(self, t: datetime) -> datetime:
        """The first interval boundary strictly after instant `t`."""
        if self.once:
            return self.anchor if t < self.anchor else NEVER
        if self.period is not None:
            return self.floor(t) + self.period
        if self.grid == "hourly":
            return self.floor(t) + timedelta(hours=1)
        if self.grid:
            day = self._grid_day(self.floor(t).astimezone(self.tz).date())
            return resolve_local(datetime.combine(self._step_day(day), time()), self.tz)
        return self._cron_next(t)

    def over(self, now: datetime) -> bool:
        """True when no interval can fall due after `now`: @once has started, or `end:` has passed."""
        if self.once:
            return now >= self.anchor
        return self.end is not None and self.floor(now) >= self.end

    def _grid_day(self, day: date) -> date:
        if self.grid == "weekly":
            return day - timedelta(days=day.weekday())
        if self.grid == "monthly":
            return day.replace(day=1)
        if self.grid == "yearly":
            return day.replace(month=1, day=1)
        return day

    def _step_day(self, day: date) -> date:
        if self.grid == "weekly":
            return day + timedelta(days=7)
        if self.grid == "monthly":
            return date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if self.grid == "yearly":
            return date(day.year + 1, 1, 1)
        return day + timedelta(days=1)

    def _cron_next(self, t: datetime) -> datetime:
        # Iterate naive wall-clock ticks (plain calendar math) and place each in the zone ourselves.
        wall = t.astimezone(self.tz).replace(tzinfo=None)
        while True:
            wall = cron.next_tick(self.spec, wall)
            instant = resolve_local(wall, self.tz)
            if instant > t:
                return instant

    def _cron_prev(self, t: datetime) -> datetime:
        local = t.astimezone(self.tz)
        # In a repeated hour, a tick later on the wall clock may be an earlier instant (its first occurrence).
        ambiguous = local.replace(fold=1 - local.fold).astimezone(UTC) != t
        margin = timedelta(hours=3) if ambiguous else timedelta(microseconds=1)
        for wall in cron.previous_ticks(self.spec, local.replace(tzinfo=None) + margin):
            instant = resolve_local(wall, self.tz)
            if instant <= t:
                return instant
        raise AssertionError("cron.check lets through only expressions that fire")

    def interval_at(self, start: datetime) -> Interval:
        """The interval starting at boundary `start` (@once's is empty: it is due once it starts)."""
        end = start if self.once else self.next(start)
        local = start.astimezone(self.tz)
        key = local.strftime("%Y-%m-%d") if self.keyed_by_date else local.isoformat(timespec="minutes")
        return Interval(start, end, key, self.tz, self)

    def before(self, interval: Interval) -> Interval:
        """The interval just before `interval` (for @once, a stand-in a period of nothing earlier)."""
        found = self._before.get(interval.start)
        if found is None:
            found = self._before[interval.start] = self.containing(interval.start - timedelta(microseconds=1))
        return found

    def containing(self, t: datetime) -> Interval:
        """The interval that holds instant `t`."""
        return self.interval_at(self.floor(t))

    def between(self, first: datetime, last: datetime) -> list[Interval]:
        """Intervals from the one holding `first` to the one holding `last`, both inclusive, oldest first."""
        out: list[Interval] = []
        current = self.containing(first)
        while current.start <= last and (self.end is None or current.start < self.end):
            out.append(current)
            current = self.interval_at(self.next(current.start))
        return out

    def due(self, now: datetime, since: datetime) -> list[Interval]:
        """Intervals from the one holding `since` whose end is at or before `now`, oldest first."""
        return [i for i in self.between(since, now) if i.end <= now]

    def latest_due(self, now: datetime) -> Interval:
        """The most recent interval that has ended by `now`."""
        current = self.containing(now)
        return self.containing(current.start - timedelta(microseconds=1))


def _period(text: str) -> timedelta:
    """`30m`, `2h`, `7d` -> a timedelta; anything else is a usage error."""
    found = _PERIOD.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise UsageError(f"bad period: every:{text}", hint="write every:30m, every:2h or every:7d")
    return timedelta(seconds=int(found.group(1)) * _PERIOD_UNITS[found.group(2)])


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_time(text: str, tz: ZoneInfo) -> datetime:
    """A user's date (local midnight), ISO time with offset or `Z`, or naive ISO (local) -> UTC instant."""
    text = text.strip()
    try:
        if _DATE.match(text):
            return resolve_local(datetime.combine(date.fromisoformat(text), time()), tz)
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"not a date or ISO time: {text!r}", hint="write 2026-11-23 or 2026-11-23T06:00:00+00:00") from None
    if value.tzinfo is None:
        return resolve_local(value, tz)
    return value.astimezone(UTC)

"""Which intervals a tick looks at: a record of success is trusted, but for the newest few and a daily full sweep."""
from __future__ import annotations

from datetime import datetime, timedelta

from datamake.schedule.intervals import Interval
from datamake.schedule.wording import record_reason

RECENT = 3  # the newest due intervals a tick always re-checks, even when recorded as done
SWEEP_EVERY = timedelta(hours=24)  # and every recorded interval's outputs this often


def sweep_due(last: str | None, now: datetime, forced: bool) -> bool:
    """Whether this tick checks every recorded interval's outputs: asked to, never swept, or the last sweep is
    SWEEP_EVERY away. Either way: ticks given the same --now record theirs a few seconds after the next one
    starts, and one further ahead was made under a --now from elsewhere in time."""
    return forced or last is None or abs(now - datetime.fromisoformat(last)) >= SWEEP_EVERY


def to_check(wanted: list[Interval], records, sweeping: bool, skip: set[str]) -> tuple[list[str], list[Interval]]:
    """(trusted keys, intervals whose outputs to look up). Looked up: no record yet (adopted when done), and
    done but among the newest RECENT (or in a sweep). A record that makes the interval due whatever its
    outputs say (failed, waiting, interrupted...) needs no look, nor does an interval in `skip`."""
    recent = {i.key for i in sorted(wanted, key=lambda i: i.start)[-RECENT:]}
    trusted, checked = [], []
    for interval in wanted:
        rec = records.get(interval.key)
        if rec is not None and (record_reason(rec) is not None or interval.key in skip):
            continue
        if rec is not None and rec.done and not sweeping and interval.key not in recent:
            trusted.append(interval.key)
        else:
            checked.append(interval)
    return trusted, checked

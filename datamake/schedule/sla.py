"""SLAs: an interval not done `sla` after its end fires one `sla_missed` event, recorded so that later ticks
and runners stay quiet about it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from datamake.events import Event, EventSink
from datamake.schedule.intervals import Interval
from datamake.schedule.request import Request
from datamake.schedule.wording import duration_text
from datamake.store.intervals import ScheduleState

DONE = ("success", "adopted")


def check_slas(req: Request, state: ScheduleState, now: datetime, workflow: str, events: EventSink,
               say: Callable[[str], None]) -> None:
    """Report each interval past its SLA and not done, once."""
    for interval in overdue(req, state, now):
        if not state.mark_sla_missed(interval.key):
            continue  # another runner reported it meanwhile
        rec = state.get(interval.key)
        sla = duration_text(req.sla)
        say(f"interval {interval.key}: SLA missed (not done {sla} after its end)")
        events(Event("sla_missed", workflow, interval.key, attempt=rec.attempts if rec else 0,
                     error=(rec.error or "") if rec else "never built",
                     detail={"SLA": sla, "STATE": rec.state if rec else "missing",
                             **{k: v for k, v in interval.own_variables().items() if k != "DATE"}}))


def overdue(req: Request, state: ScheduleState, now: datetime) -> list[Interval]:
    """Intervals past their SLA and not done, not reported yet; none for --date and ranges (asked-for builds)."""
    if req.sla is None or req.date is not None or req.first is not None or req.last is not None:
        return []
    records = state.intervals()
    starts = [datetime.fromisoformat(r.start) for r in records.values()]
    since = req.start or (max(starts) if starts else None) or req.schedule.latest_due(now).start
    candidates = {i.key: i for i in req.schedule.due(now, since)}
    for key, rec in records.items():
        candidates.setdefault(key, req.schedule.containing(datetime.fromisoformat(rec.start)))
    reported = state.sla_missed()
    return [i for key, i in sorted(candidates.items()) if key not in reported
            and i.end + timedelta(seconds=req.sla) <= now
            and (records.get(key) is None or records[key].state not in DONE)]

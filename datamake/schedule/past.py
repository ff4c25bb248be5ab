"""`+depends-on-past`: whether the previous interval's run of a step holds this interval's run of it."""
from __future__ import annotations

from typing import Callable

from datamake.schedule.intervals import Interval, Schedule
from datamake.store.intervals import ScheduleState


def past_check(schedule: Schedule, state: ScheduleState, unsettled: set[str],
               interval: Interval) -> Callable[[str], str | None]:
    """Why the previous interval's run of a step (by stable name) holds it, or None.

    `unsettled`: the intervals of this round still queued or building.
    """
    before = schedule.before(interval)
    if before.start >= interval.start:  # @once: nothing came before
        return lambda _name: None

    def why(name: str) -> str | None:
        if before.key in unsettled:
            return f"{name} of {before.key} (not built yet)"
        rec = state.get(before.key)
        if rec is None:  # nothing recorded: the start of the history
            return None
        step_state = state.steps(before.key).get(before.key, {}).get(name)
        if step_state == "success" or (rec.state == "adopted" and step_state is None):
            return None
        return f"{name} of {before.key} ({rec.state if rec.state != 'success' else step_state or 'missing'})"

    return why

"""`--clear`: mark steps × intervals to be rebuilt by the next tick (Airflow's `tasks clear`); `-P` only shows them.

Intervals: `--date D`, `--from A --to B`, else every recorded one. Steps: the dated steps whose
names the targets match as `--status` does (`report`, `'raw/*'`), else all. `--failed`: only the
steps whose last outcome in that interval failed.
"""
from __future__ import annotations

import argparse
from datetime import datetime

from datamake.build.lock import acquire_lock
from datamake.cli.cmd_schedule import open_state, read_state, schedule_of, say, shape, state_dir_of
from datamake.errors import UsageError
from datamake.schedule import dated
from datamake.schedule.intervals import Interval, Schedule, parse_time
from datamake.schedule.clock import Clock
from datamake.store.intervals import ScheduleState
from datamake.views.status import matching_steps


def run(args: argparse.Namespace) -> int:
    workflow = shape(args)
    sched = schedule_of(args, workflow).schedule
    names = [dated.step_name(s, dict(dated.SENTINELS)) for s in dated.dated_steps(workflow)] if workflow else []
    steps = matching_steps(names, [t.lstrip("+-=^") for t in args.targets])
    if not steps:
        raise UsageError(f"no step matches {', '.join(args.targets) or 'the workflow'}",
                         hint="name steps as --status shows them, e.g. 'report/$[DATE].csv', 'report' or 'raw/*'")
    state_dir = state_dir_of(args)
    if args.preview:
        state = read_state(args, state_dir)
        try:
            chosen = _selection(args, sched, state, steps)
        finally:
            state.close()
        for interval, cleared in chosen:
            print(f"would clear {interval.key}: {', '.join(cleared)}")
        print(f"{len(chosen)} interval(s) would be cleared" if chosen else "nothing to clear")
        return 0
    with acquire_lock(state_dir):
        state = open_state(args, state_dir)
        try:
            chosen = _selection(args, sched, state, steps)
            for interval, cleared in chosen:
                state.clear(interval.key, interval.start.isoformat(), interval.end.isoformat(), cleared)
        finally:
            state.close()
    count = sum(len(cleared) for _i, cleared in chosen)
    say(args)(f"cleared {count} step(s) in {len(chosen)} interval(s); the next tick rebuilds them")
    return 0


def _selection(args: argparse.Namespace, sched: Schedule, state: ScheduleState,
               steps: list[str]) -> list[tuple[Interval, list[str]]]:
    """Each chosen interval with its steps to clear (only the failed ones with --failed), oldest first."""
    outcomes = state.steps()
    chosen = []
    for interval in _intervals(args, sched, state):
        recorded = outcomes.get(interval.key, {})
        cleared = [s for s in steps if recorded.get(s) == "failed"] if args.failed else steps
        if cleared:
            chosen.append((interval, cleared))
    return chosen


def _intervals(args: argparse.Namespace, sched: Schedule, state: ScheduleState) -> list[Interval]:
    now = Clock(parse_time(args.now, sched.tz) if args.now else None).now()
    if args.date:
        return [sched.containing(parse_time(args.date, sched.tz))]
    if args.from_ or args.to:
        first, last = (parse_time(t, sched.tz) if t else None for t in (args.from_, args.to))
        return [i for i in sched.between(first or last, last or first) if i.end <= now]
    return [sched.containing(datetime.fromisoformat(r.start)) for r in state.intervals().values()]

"""`--status`: recorded and due intervals by step, as a table that fits the terminal or as JSON."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from datamake.cli.cmd_schedule import read_state, schedule_of, shape, state_dir_of
from datamake.errors import UsageError
from datamake.schedule import dated
from datamake.schedule.intervals import Interval, Schedule, parse_time
from datamake.views import status as view
from datamake.views.landed import gone_by_start


def run(args: argparse.Namespace) -> int:
    """--status: intervals by step, as a table or --json; a success whose dated outputs are gone shows as missing."""
    workflow = shape(args)
    decl = schedule_of(args, workflow) if args.schedule or (workflow and workflow.schedule) else None
    sched, start = (decl.schedule, decl.start) if decl else (None, None)
    names = [dated.step_name(s, dict(dated.SENTINELS)) for s in dated.dated_steps(workflow)] if workflow else []
    state = read_state(args, state_dir_of(args))
    try:
        expected = _expected(args, sched, start, state) if sched else []
        columns, rows = view.collect(state, expected, names, _gone(workflow, sched, state))
        paused = state.paused_since()
    finally:
        state.close()
    rows = _within(args, sched, rows)
    if args.targets:
        steps = view.matching_steps(columns, args.targets)
        if not steps:
            raise UsageError(f"no step matches {', '.join(args.targets)}",
                             hint="name steps as --status shows them, e.g. 'report/$[DATE].csv', 'report' or 'raw/*'")
        columns, rows = view.only(columns, rows, steps)
    if args.json:
        view.render_json(columns, rows, sys.stdout, paused)
        return 0
    if paused:
        print(f"schedule paused since {paused} (datamake --resume to go on)")
    view.render_table(columns, rows, sys.stdout)
    return 0


def _gone(workflow, sched: Schedule | None, state):
    """The dated steps whose outputs are gone, by start of each interval recorded done: one listing per folder or
    remote prefix for them all, never a stat or HEAD per output (a year on S3 would be thousands)."""
    if workflow is None or sched is None:
        return None
    done = [r.start for r in state.intervals().values() if r.done]
    return gone_by_start(workflow, sched, done).get


def _within(args: argparse.Namespace, sched: Schedule | None, rows: list) -> list:
    """--from/--to: the intervals starting from A's to B's (inclusive)."""
    if not (args.from_ or args.to):
        return rows
    if sched is None:
        return []
    first = sched.containing(parse_time(args.from_, sched.tz)).start if args.from_ else None
    last = sched.containing(parse_time(args.to, sched.tz)).start if args.to else None
    return [r for r in rows if (first is None or datetime.fromisoformat(r.start) >= first)
            and (last is None or datetime.fromisoformat(r.start) <= last)]


def _expected(args: argparse.Namespace, sched: Schedule, start: datetime | None, state) -> list[Interval]:
    """The due intervals --status lists even when never built: from --start, else the first record."""
    now = parse_time(args.now, sched.tz) if args.now else datetime.now(timezone.utc)
    first = state.intervals()
    since = start or (
        datetime.fromisoformat(min(r.start for r in first.values())) if first else sched.latest_due(now).start)
    if args.from_:  # a window asked for lists its never-built intervals too
        since = min(since, sched.containing(parse_time(args.from_, sched.tz)).start)
    return sched.due(now, since)

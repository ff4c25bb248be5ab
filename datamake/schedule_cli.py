"""The schedule flags turned into a Runner: which schedule, how to build one interval, preview, --status."""
from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timezone

from . import dated
from .errors import DatamakeError, UsageError
from .intervals import INTERVAL_VARS, Interval, Schedule, parse_time
from .scheduler import Clock, Outcome, Request, Runner
from .schedule_state import ScheduleState

_USES_INTERVAL = re.compile(r"\$\[(" + "|".join(INTERVAL_VARS) + r")\]")


def scheduled(args: argparse.Namespace) -> bool:
    """True when a plain `datamake` run must go through the runner: the workflow names interval variables."""
    from .cli import workflow_path
    from .parser import parse_var_args

    if set(parse_var_args(args.vars, args.var)) & set(INTERVAL_VARS):
        return False  # the user bound DATE themselves: an ordinary build
    with open(workflow_path(args.workflow), encoding="utf-8", errors="replace") as handle:
        return bool(_USES_INTERVAL.search(handle.read()))


def load(args: argparse.Namespace, variables: dict[str, str]):
    from .commands import load as load_workflow

    return load_workflow(args, extra_vars=variables)


def shape(args: argparse.Namespace):
    """The workflow evaluated with stand-in interval values (None if it cannot be, e.g. $(cmd $[DATE]))."""
    try:
        return load(args, dict(dated.SENTINELS))
    except DatamakeError:
        return None


def schedule_of(args: argparse.Namespace, declared) -> tuple[Schedule, str | None]:
    """--schedule/--tz/--start win over `%schedule`; --date, --from or a dated target alone mean daily."""
    decl = dict(declared or {})
    spec = args.schedule or decl.get("spec")
    if spec is None:
        if not (args.date or args.from_ or args.to or args.targets):
            raise UsageError("the workflow uses interval variables ($[DATE], ...) but has no schedule",
                             hint="pass --schedule daily (or another SPEC), --date D, or add `%schedule daily`")
        spec = "daily"
    return Schedule(spec, args.tz or decl.get("tz")), args.start or decl.get("start")


def request_of(args: argparse.Namespace, sched: Schedule, start: str | None, date: datetime | None) -> Request:
    at = (lambda text: parse_time(text, sched.tz) if text else None)
    long_running = bool(args.schedule) and not (args.once or args.date or args.from_ or args.to or date)
    return Request(sched, start=at(start), first=at(args.from_), last=at(args.to), date=date or at(args.date),
                   rerun=args.rerun, max_active=args.max_active, once=not long_running,
                   on_failure=args.on_failure, on_success=args.on_success)


def state_dir_of(args: argparse.Namespace) -> str:
    from .cli import workflow_path

    return args.state_dir or os.path.join(os.path.dirname(workflow_path(args.workflow)), ".datamake")


def run(args: argparse.Namespace) -> int:
    """`datamake --schedule ...` (or a dated workflow): build due, backfilled or named intervals."""
    from .cli import workflow_path
    from .state import acquire_lock

    workflow = shape(args)
    sched, start = schedule_of(args, workflow.schedule if workflow else None)
    dates = _dates_from_targets(args, workflow, sched)
    clock = Clock(parse_time(args.now, sched.tz) if args.now else None)
    state_dir = state_dir_of(args)
    requests = [request_of(args, sched, start, d) for d in dates] or [request_of(args, sched, start, None)]
    if args.preview:
        return preview(args, requests, state_dir, clock)
    with acquire_lock(state_dir):
        state = ScheduleState(state_dir, workflow_path(args.workflow))
        try:
            for request in requests:
                builder = IntervalBuilder(args, state_dir)
                Runner(request, state, builder.build, builder.done, clock, _say(args)).run()
        finally:
            state.close()
    return 0


def _dates_from_targets(args, workflow, sched: Schedule) -> list[datetime]:
    """Targets naming dated outputs (`report/2026-11-23.csv`) pick their intervals; others are an error."""
    if not args.targets:
        return []
    match = dated.name_matcher(workflow) if workflow else (lambda _t: None)
    dates = []
    for target in args.targets:
        values = match(target.lstrip("+-=^"))
        if values is None:
            raise UsageError(f"target not found: {target}",
                             hint="with a schedule, name a dated output such as report/2026-11-23.csv")
        dates.append(parse_time(dated.instant_of(values), sched.tz))
    return dates


def _say(args: argparse.Namespace):
    return (lambda _text: None) if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))


class IntervalBuilder:
    """Builds one interval like a normal run of its dated targets."""

    def __init__(self, args: argparse.Namespace, state_dir: str):
        self.args = args
        self.state_dir = state_dir

    def evaluate(self, interval: Interval):
        workflow = load(self.args, interval.variables())
        if not dated.dated_steps(workflow):
            raise UsageError("no step uses the interval variables ($[DATE], $[HOUR], $[INTERVAL_START], ...)",
                             hint="name dated outputs such as report/$[DATE].csv, or run without --schedule")
        return workflow

    def done(self, interval: Interval) -> bool:
        return dated.targets_exist(self.evaluate(interval))

    def build(self, interval: Interval, force: bool, succeeded: set, preview: bool = False):
        from .build import build

        workflow = self.evaluate(interval)
        variables = interval.variables()
        result = build(dated.adapt(workflow, succeeded, variables), dated.targets(workflow, force),
                       jobs=self.args.jobs, check=self.args.check or "timestamp", preview=preview,
                       auto=self.args.auto, fail_fast=self.args.fail_fast, state_dir=self.state_dir,
                       reporter=self._reporter(preview))
        return result if preview else outcome_of(workflow, result, variables, self.state_dir)

    def _reporter(self, preview: bool):
        from .report import make_reporter

        quiet = preview or self.args.quiet
        return make_reporter(sys.stderr.isatty() and not quiet, quiet, False, self.args.jobs)


def outcome_of(workflow, result, variables: dict[str, str], state_dir: str) -> Outcome:
    """A BuildResult as the runner records it: step states by stable name, errors, retry policy, log."""
    steps = {}
    for step, _reason in result.plan:
        state = "failed" if step.index in result.failed else "missing" if step.index in result.skipped else "success"
        steps[dated.step_name(step, variables)] = state
    failed = [workflow.steps[i] for i in result.failed]
    error = "; ".join(f"{s.label()}: {result.errors.get(s.index, 'failed')}" for s in failed) or None
    policy = max(failed, key=lambda s: s.options.retries, default=None)
    return Outcome(ok=result.ok, steps=steps, failed=[s.label() for s in failed], error=error,
                   log_path=_log_of(state_dir, failed[0]) if failed else None,
                   retries=policy.options.retries if policy else 0,
                   retry_delay=policy.options.retry_delay if policy else 1.0, ran=len(result.ran))


def _log_of(state_dir: str, step) -> str | None:
    """The newest log the Builder wrote for this step (logs/NNNN-label.N.log)."""
    logs = os.path.join(state_dir, "logs")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", step.label())[:80].strip("_") or "step"
    prefix = f"{step.index:04d}-{safe}."
    try:
        found = [os.path.join(logs, n) for n in os.listdir(logs) if n.startswith(prefix)]
    except FileNotFoundError:
        return None
    return max(found, key=os.path.getmtime) if found else None


def preview(args: argparse.Namespace, requests: list[Request], state_dir: str, clock: Clock) -> int:
    """-P: each interval that would be built, why, and the steps it would run."""
    import json

    from .cli import workflow_path

    state = ScheduleState(state_dir, workflow_path(args.workflow)) if os.path.isdir(state_dir) else None
    builder = IntervalBuilder(args, state_dir)
    report = []
    for request in requests:
        runner = Runner(request, state or _NoState(), builder.build, builder.done, clock, _say(args))
        for interval, why in runner.plan():
            result = builder.build(interval, request.rerun == "all", set(), preview=True)
            steps = [{"index": s.index, "outputs": [t.name for t in s.outputs], "reason": str(r)}
                     for s, r in result.wanted]
            report.append({"key": interval.key, "start": interval.start.isoformat(),
                           "end": interval.end.isoformat(), "reason": why, "steps": steps})
    if args.json:
        print(json.dumps({"intervals": report}))
    else:
        for item in report:
            print(f"interval {item['key']}: {item['reason']}")
            for step in item["steps"]:
                print(f"  {step['index']}. {', '.join(step['outputs'])}: {step['reason']}")
        if not report:
            print("nothing due")
    return 0


class _NoState:
    """An empty schedule record, for previews of a project that has never run."""

    def intervals(self):
        return {}

    def steps(self):
        return {}


def status(args: argparse.Namespace) -> int:
    """--status: intervals by step, as a table or --json."""
    from . import status as view
    from .cli import workflow_path

    workflow = shape(args)
    declared = workflow.schedule if workflow else None
    expected: list[Interval] = []
    names: list[str] = []
    state = ScheduleState(state_dir_of(args), workflow_path(args.workflow))
    try:
        if args.schedule or declared:
            sched, start = schedule_of(args, declared)
            now = parse_time(args.now, sched.tz) if args.now else datetime.now(timezone.utc)
            first = state.intervals()
            since = parse_time(start, sched.tz) if start else (
                datetime.fromisoformat(min(r.start for r in first.values())) if first else sched.latest_due(now).start)
            expected = sched.due(now, since)
            if workflow:
                names = [dated.step_name(s, dict(dated.SENTINELS)) for s in dated.dated_steps(workflow)]
        columns, rows = view.collect(state, expected, names)
    finally:
        state.close()
    (view.render_json if args.json else view.render_table)(columns, rows, sys.stdout)
    return 0


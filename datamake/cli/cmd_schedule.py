"""The schedule flags turned into a Runner: which schedule, which intervals, preview, --status."""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import sys
from datetime import datetime

from datamake.cli.alerts import dispatcher_of
from datamake.build.lock import acquire_lock, open_store
from datamake.build.pools import Pools
from datamake.build.records import stamped
from datamake.cli.keep import keep_history
from datamake.cli.loading import load_written
from datamake.cli.variables import parse_var_args
from datamake.language.load import workflow_path
from datamake.language.parser import read_source
from datamake.schedule import dated
from datamake.errors import LockHeld, UsageError, warn
from datamake.events import EventSink, ignore
from datamake.cli.args import build_settings, interval_reporter, pools_for
from datamake.schedule.interval_build import IntervalBuilder, evaluated_or_none
from datamake.schedule.intervals import INTERVAL_VARS, Interval, Schedule, parse_time
from datamake.schedule.collisions import check_distinct_names
from datamake.schedule.declared import Declared, declared
from datamake.schedule.cancel import Cancel
from datamake.decide.preview import ReadOnlyState
from datamake.views.steps import step_json
from datamake.schedule.request import Request
from datamake.schedule.clock import Clock
from datamake.schedule.runner import Runner
from datamake.store.intervals import ScheduleState
from datamake.store.statedb import default_state_dir
from datamake.store.storage import Storage

# A step can depend on an interval variable only through `$[NAME]` written in the workflow or in
# a file it includes: without either, the workflow is not evaluated a second time to find out.
_USES_INTERVAL = r"\$\[(" + "|".join(INTERVAL_VARS) + r")(-\d+(\.\.\d+)?)?\]"
_MAY_BE_DATED = re.compile(_USES_INTERVAL + r"|^[ \t]*%(include|call|context)\b", re.M)


def scheduled(args: argparse.Namespace) -> bool:
    """True when a plain `datamake` run must go through the runner: a step's names use interval variables.

    Decided by evaluating the workflow with stand-in interval values and looking at each step's
    header roots, so names built through variables or in `%include`d files count.
    """
    if set(parse_var_args(args.vars, args.var)) & set(INTERVAL_VARS):
        return False  # the user bound DATE themselves: an ordinary build
    try:
        # Read through the parser, which keeps a pipe's bytes: the build reads the same ones. Bad bytes
        # are the parser's to report, with their place.
        text = read_source(workflow_path(args.workflow)).decode("utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read workflow {args.workflow or 'Drakefile'}: {exc.strerror or exc}") from None
    if ("$[" not in text and "%" not in text) or not _MAY_BE_DATED.search(text):
        return False  # (the substring tests first: the regex takes ~30 ms on a 2 MB workflow)
    workflow = shape(args)
    if workflow is None:  # cannot evaluate with stand-ins: let whichever path reports it
        return bool(re.search(_USES_INTERVAL, text))
    return bool(dated.dated_steps(workflow))


def shape(args: argparse.Namespace):
    """The workflow evaluated with stand-in interval values (None if it cannot be, e.g. $(cmd $[DATE]))."""
    return evaluated_or_none(loader(args), dict(dated.SENTINELS))


def schedule_of(args: argparse.Namespace, workflow) -> Declared:
    """--schedule/--tz/--start win over `%schedule`; --date, --from or a dated target alone mean daily.

    A mistake in a `%schedule` part is reported at its place in the workflow.
    """
    decl = dict(workflow.schedule or {}) if workflow else {}
    written = dict(workflow.schedule_locs or {}) if workflow else {}
    given = {"spec": args.schedule, "tz": args.tz, "start": args.start}
    parts = {**decl, **{key: value for key, value in given.items() if value}}
    locs = {key: loc for key, loc in written.items() if not given.get(key)}
    if parts.get("spec") is None:
        if not (args.date or args.from_ or args.to or args.targets):
            if workflow is None:
                loader(args)(dict(dated.SENTINELS))  # it cannot be evaluated: say why rather than "no schedule"
            raise UsageError("the workflow uses interval variables ($[DATE], ...) but has no schedule",
                             hint="pass --schedule daily (or another SPEC), --date D, or add `%schedule daily`")
        parts["spec"] = "daily"
    return declared(parts, locs)


def request_of(args: argparse.Namespace, decl: Declared, date: datetime | None) -> Request:
    sched = decl.schedule
    at = (lambda text: parse_time(text, sched.tz) if text else None)
    long_running = bool(args.schedule) and not (args.once or args.date or args.from_ or args.to or date)
    first, last = at(args.from_), at(args.to)
    if first and last and first > last:
        raise UsageError(f"--from {args.from_} is after --to {args.to}", hint="backfill runs from the older date")
    return Request(sched, start=decl.start, first=first, last=last, date=date or at(args.date),
                   rerun=args.rerun, max_active=args.max_active, once=not long_running, catchup=decl.catchup,
                   sweep=args.sweep,
                   **{k: v for k, v in (decl.waits or {}).items() if k in ("wait", "poke", "sla")})


def loader(args: argparse.Namespace, storage: Storage | None = None):
    """The workflow of the command line, evaluated with extra (interval) variables.

    Every evaluation carries one Storage: `storage`, else the one the first evaluation read options for.
    """
    kept = [storage]

    def load(variables: dict[str, str]):
        workflow = load_written(args, extra_vars=variables, storage=kept[0])
        kept[0] = workflow.storage
        return workflow
    return load


def interval_builder(args: argparse.Namespace, state_dir: str, workflow, cancel: Cancel | None = None,
                     events: EventSink = ignore, pools: Pools | None = None):
    """`pools`: one set of slots for every interval of the run."""
    storage = workflow.storage if workflow is not None else None  # the shape's: options read once per run
    return IntervalBuilder(build_settings(args), state_dir, workflow, cancel, load=loader(args, storage),
                           reporter_for=interval_reporter(args), targets=tuple(args.targets),
                           max_active=args.max_active, events=events, pools=pools)


def state_dir_of(args: argparse.Namespace) -> str:
    return args.state_dir or default_state_dir(workflow_path(args.workflow))


def open_state(args: argparse.Namespace, state_dir: str) -> ScheduleState:
    """The schedule tables, once StateStore.open has set aside a corrupt or unknown database (with a warning)."""
    store = open_store(state_dir)
    store.close()
    for text in store.warnings:
        warn(text)
    return ScheduleState(state_dir, workflow_path(args.workflow))


def run(args: argparse.Namespace) -> int:
    """`datamake --schedule ...` (or a dated workflow): build due, backfilled or named intervals.

    With --json, one object {"intervals": [{key, status, ran, failed, skipped}]} on stdout at the
    end (the long-running mode prints one per round).
    """
    workflow = shape(args)
    if workflow is None and not args.schedule:  # its schedule is unknown: say why it cannot be evaluated
        loader(args)(dict(dated.SENTINELS))
    decl = schedule_of(args, workflow)
    sched = decl.schedule
    dates = _dates_from_targets(args, workflow, sched)
    clock = Clock(parse_time(args.now, sched.tz) if args.now else None)
    if workflow is not None:
        check_distinct_names(workflow, sched, clock.now())
    state_dir = state_dir_of(args)
    requests = [request_of(args, decl, d) for d in dates] or [request_of(args, decl, None)]
    requests = [dataclasses.replace(r, sla=_sla(r.sla, workflow)) for r in requests]
    if args.question or args.preview:  # decide only: an exit code, or the plan
        return question_or_preview(args, requests, state_dir, clock, workflow)
    _run_all(args, requests, state_dir, clock, workflow, (decl.waits or {}).get("keep"))
    return 0


def _run_all(args: argparse.Namespace, requests: list[Request], state_dir: str, clock: Clock, workflow,
             keep: str | None) -> None:
    """Run each request under the state directory's lock; with --json and --once, one object at the end."""
    report: list[dict] = []
    once = all(r.once for r in requests)
    on_round = report.extend if once else _print_json if args.json else None
    cancel = Cancel()
    events = dispatcher_of(args, workflow)  # a bad notifier URL stops here, before anything runs
    pools = pools_for(args, workflow) if workflow else None  # an unknown pool too
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(acquire_lock(state_dir))
        except LockHeld as busy:
            if not _is_tick(args, requests):
                raise
            # The runner of an earlier tick is still at work (a long build, a retry's wait): it owns the
            # schedule until it exits, so this tick is not an error for cron.
            say(args)(f"datamake: {busy.message}; an earlier run of this schedule is still working, "
                       "so this tick has nothing to do")
            return
        state = open_state(args, state_dir)
        builder = interval_builder(args, state_dir, workflow, cancel, events, pools)
        try:
            for request in requests:
                Runner(request, state, builder.build, builder.done, clock, say(args), cancel, on_round,
                       done_many=builder.done_many, late=builder.late, events=events,
                       workflow=workflow_path(args.workflow)).run()
        finally:
            builder.close()
            state.close()
            if args.json and once:
                _print_json(report)
            keep_history(args, state_dir, keep)


def _sla(declared: float | None, workflow) -> float | None:
    """`%schedule ... sla:11h`, tightened by any dated step's `[sla:...]`."""
    given = [declared] + [s.options.sla for s in (dated.dated_steps(workflow) if workflow else ())]
    return min((g for g in given if g is not None), default=None)


def _is_tick(args: argparse.Namespace, requests: list[Request]) -> bool:
    """A cron or timer tick: `--once` (or a declared schedule) with no interval or target of its own."""
    return all(r.once for r in requests) and not (args.date or args.from_ or args.to or args.targets)


def _print_json(results: list[dict]) -> None:
    print(json.dumps(stamped({"intervals": results})), flush=True)


def _dates_from_targets(args, workflow, sched: Schedule) -> list[datetime]:
    """Targets naming dated outputs (`report/2026-11-23.csv`) pick their intervals; others are an error."""
    if not args.targets:
        return []
    match = dated.name_matcher(workflow) if workflow else (lambda _t: None)
    if args.date or args.from_ or args.to:
        _check_targets_in_range(args, match, sched)
        return []
    dates = []
    for target in args.targets:
        values = match(target.lstrip("+-=^"))
        if values is None:
            raise UsageError(f"target not found: {target}",
                             hint="with a schedule, name a dated output such as report/2026-11-23.csv")
        dates.append(parse_time(dated.instant_of(values), sched.tz))
    return dates


def _check_targets_in_range(args, match, sched: Schedule) -> None:
    """With --date D, a dated name must be of D's interval; a range selects with `$[DATE]` names, never one date's."""
    for target in args.targets:
        values = match(target.lstrip("+-=^"))
        if not values:
            continue  # `$[DATE]` names and shared steps: resolved in each interval
        if args.from_ or args.to:
            raise UsageError(f"target {target} names one interval's output; in a range, name the step with "
                             "$[DATE] & co", hint="e.g. '^report/$[DATE].csv' (quoted for the shell)")
        named = sched.containing(parse_time(dated.instant_of(values), sched.tz)).key
        wanted = sched.containing(parse_time(args.date, sched.tz)).key
        if named != wanted:
            raise UsageError(f"target {target} is in interval {named}, not in --date {args.date} ({wanted})")


def say(args: argparse.Namespace):
    """Where progress lines go: stderr, or nowhere with -q."""
    return _quiet if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))


def _quiet(_text: str) -> None:
    pass


def question_or_preview(args: argparse.Namespace, requests: list[Request], state_dir: str, clock: Clock,
                        workflow) -> int:
    if args.question:
        return 1 if planned(args, requests, state_dir, clock, workflow) else 0
    return preview(args, requests, state_dir, clock, workflow)


def preview(args: argparse.Namespace, requests: list[Request], state_dir: str, clock: Clock, workflow) -> int:
    """-P: each interval that would be built, why, and the steps it would run."""
    report = planned(args, requests, state_dir, clock, workflow)
    if args.json:
        print(json.dumps(stamped({"intervals": report})))
        return 0
    for item in report:
        print(f"interval {item['key']}: {item['reason']}")
        for step in item["steps"]:
            print(f"  {step['index']}. {', '.join(step['outputs'])}: {step['reason']}")
    if not report:
        print("nothing due")
    return 0


def planned(args: argparse.Namespace, requests: list[Request], state_dir: str, clock: Clock, workflow) -> list[dict]:
    """Each interval that would be built, why, and the steps it would run; nothing is run or written."""
    state = read_state(args, state_dir)
    builder = interval_builder(args, state_dir, workflow)
    report = []
    try:
        recorded = state.steps()
        # An unreadable database was reported by _read_state already.
        builder.preview_state = ReadOnlyState(state_dir, _quiet if state.warnings else warn)
        for request in requests:
            runner = Runner(request, state, builder.build, builder.done, clock, say(args),
                            done_many=builder.done_many)
            report += [_preview_interval(builder, recorded.get(interval.key, {}), request, interval, why)
                       for interval, why in runner.plan()]
    finally:
        if builder.preview_state is not None:
            builder.preview_state.close()
        state.close()
    return report


def _preview_interval(builder: IntervalBuilder, recorded: dict[str, str], request: Request, interval: Interval,
                      why: str) -> dict:
    late = builder.late(interval)
    if late is not None:
        return {"key": interval.key, "start": interval.start.isoformat(), "end": interval.end.isoformat(),
                "reason": "waiting for " + ", ".join(late.paths), "steps": []}
    succeeded = {name for name, st in recorded.items() if st == "success"}
    result = builder.build(interval, request.rerun == "all", succeeded, preview=True)
    steps = [{**step_json(s), "reason": str(r)} for s, r in result.wanted]
    return {"key": interval.key, "start": interval.start.isoformat(), "end": interval.end.isoformat(),
            "reason": why, "steps": steps}


def read_state(args: argparse.Namespace, state_dir: str) -> ScheduleState:
    """The schedule records for -P and --status, read from a copy: the database is never created, changed or set aside."""
    state = ScheduleState(state_dir, workflow_path(args.workflow), readonly=True)
    for text in state.warnings:
        warn(text)
    return state

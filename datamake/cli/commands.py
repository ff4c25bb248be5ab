"""What each command-line mode does, in terms of the library (cli.py only parses and dispatches)."""
from __future__ import annotations

import argparse
import sys

from datamake.cli.alerts import dispatcher_of
from datamake.build.executors import factory as executors
from datamake.build.pools import Pools, declared_pools, pools_of
from datamake.cli.main import build_parser
from datamake.cli.variables import parse_var_args
from datamake.language.load import load_workflow, workflow_path


_configured: list = [None]  # the (--storage-option values, workflow dir) the storage layer was set up with


def load(args: argparse.Namespace, extra_vars: dict[str, str] | None = None):
    """The workflow of -w with its pattern steps expanded for the command line's targets."""
    from datamake.graph.patterns import expand_patterns
    from datamake.store import storage

    return expand_patterns(load_written(args, extra_vars), getattr(args, "targets", ()), storage.glob)


def load_written(args: argparse.Namespace, extra_vars: dict[str, str] | None = None):
    """Parse and evaluate the workflow named by -w with the variables of -v/--var/--base.

    Also sets the storage options (--storage-option over the config file's [storage]) every mode needs.
    """
    import gc

    from datamake.store import storage
    from datamake.store import storage_options
    from datamake.language.options import drake_by_default
    from datamake.flow import with_python_steps
    from datamake.model import workflow_directory

    path = workflow_path(args.workflow)
    settings = (tuple(getattr(args, "storage_option", [])), workflow_directory(path))
    if settings != _configured[0]:  # a schedule evaluates once per interval: read the config once
        storage.configure(storage_options.gather(list(settings[0]), settings[1]))
        _configured[0] = settings
    variables = parse_var_args(args.vars, args.var)
    if extra_vars:
        variables.update(extra_vars)
    workflow = with_python_steps(load_workflow(path, variables=variables, base=args.base))
    if getattr(args, "drake", False):
        workflow = drake_by_default(workflow)
    gc.freeze()  # the workflow lives as long as the command: later collections need not walk it again
    return workflow


def print_workflow(args: argparse.Namespace) -> int:
    from datamake.views.workflow import render_json, render_text

    workflow = load(args)
    for step in workflow.steps:  # printing shows every step: a broken one is an error as when selected
        if step.error is not None:
            raise step.error
    if args.json:
        sys.stdout.write(render_json(workflow))
    elif args.color == "always" or (args.color == "auto" and sys.stdout.isatty()):
        from datamake.views.highlight import highlight_workflow

        sys.stdout.write(highlight_workflow(render_text(workflow)))
    else:
        sys.stdout.write(render_text(workflow))
    return 0


def build(args: argparse.Namespace) -> int:
    """The default command: preview or run the selected steps; exit 1 lists every failed step."""
    import json
    import os

    from datamake.build.builder import build as run_build
    from datamake.errors import StepFailure
    from datamake.views.reporters import make_reporter
    from datamake.views.steps import format_plan, preview_json

    workflow = load(args)
    common = dict(jobs=args.jobs, check=args.check or "timestamp", why=args.why, auto=args.auto,
                  fail_fast=args.fail_fast, state_dir=args.state_dir and os.path.abspath(args.state_dir))
    if args.question:  # make -q: the decision alone, as an exit code
        result = run_build(workflow, args.targets, preview=True, **common)
        return 1 if any(reason.dirty for _step, reason in result.plan) else 0
    if args.preview:
        result = run_build(workflow, args.targets, preview=True, **common)
        sys.stdout.write(json.dumps(preview_json(result.plan, args.why)) + "\n" if args.json
                         else format_plan(result.plan, args.why))
        return 0
    # The progress display and the step lines go to stdout: a terminal there gets the live display.
    events = dispatcher_of(args, workflow)
    pools = pools_for(args, workflow)
    reporter = make_reporter(sys.stdout.isatty(), args.quiet, args.json, args.jobs, why=args.why)
    executor = make_executor(args, workflow, reporter)
    try:
        result = run_build(workflow, args.targets, executor=executor, reporter=reporter, events=events or None,
                           pools=pools, **common)
    finally:
        executor.close()
        reporter.close()
    from datamake.store.statedb import default_state_dir

    keep_history(args, common["state_dir"] or default_state_dir(workflow.path))
    if not result.ok:
        failures = [f"{workflow.steps[i].label()} ({result.errors[i]})" for i in sorted(result.failed)]
        head = "step failed: " if len(failures) == 1 else f"{len(failures)} steps failed: "
        raise StepFailure(head + ", ".join(failures))
    return 0


def keep_history(args: argparse.Namespace, state_dir: str, declared: float | None = None) -> None:
    """`--keep 90d` (or `%schedule keep:90d`): prune older run history and logs at the end of a run."""
    import time

    from datamake.errors import UsageError
    from datamake.language.options import duration_seconds
    from datamake.store.retention import prune
    from datamake.build.lock import acquire_lock, open_store

    keep = duration_seconds(args.keep, "--keep", None) if args.keep else declared
    if not keep:
        return
    try:
        with acquire_lock(state_dir):
            store = open_store(state_dir)
            try:
                pruned = prune(store.db, state_dir, keep, time.time())
            finally:
                store.close()
    except UsageError:
        return  # another datamake holds the lock now: the next run prunes
    if pruned.problem:
        print(f"datamake: warning: run history in {state_dir}/state.db is damaged ({pruned.problem})",
              file=sys.stderr)
    if (pruned.runs or pruned.logs) and not args.quiet:
        age = args.keep or (f"{keep / 86400:g}d" if keep >= 86400 else f"{keep:g}s")
        print(f"datamake: history older than {age} pruned: {pruned.runs} run(s), "
              f"{pruned.attempts} step attempt(s), {pruned.logs} log file(s)" +
              (", vacuumed the state database" if pruned.vacuumed else ""), file=sys.stderr)


def pools_for(args: argparse.Namespace, workflow) -> Pools:
    """The `%pool` slots of a run. On the local executor every `[pool:NAME]` must be declared; on Dask an
    undeclared pool stays a worker resource (`pool-NAME=1`), as before pools were declared."""
    if args.executor == "dask" or args.dask_scheduler:
        return declared_pools(workflow)
    return pools_of(workflow)


def make_executor(args: argparse.Namespace, workflow, reporter):
    """`--executor`: where steps run; each executor passes output lines to the reporter."""
    def on_output(job, line, stderr=False):
        reporter.step_output(workflow.steps[job.key], line, stderr)

    return executors.make_executor(args.jobs, on_output, kind=args.executor, scheduler_address=args.dask_scheduler,
                                   steps=workflow.steps)


def graph(args: argparse.Namespace) -> int:
    """--graph: draw the selected steps with their states (from a preview) and the last run; exit 0."""
    import os

    from datamake.store import storage
    from datamake.store import storage_options
    from datamake.build.builder import build as decide_build
    from datamake.store.statedb import default_state_dir
    from datamake.views.graph_view import view_of_plan
    from datamake.views.graph_render import choose_format, render

    fmt = choose_format(args.graph, args.output)
    workflow = load(args)
    storage.configure(storage_options.gather(args.storage_option, workflow.directory))
    state_dir = args.state_dir or default_state_dir(workflow.path)
    result = decide_build(workflow, args.targets, check=args.check or "timestamp", preview=True,
                          state_dir=state_dir)
    view = view_of_plan(result.plan, state_dir, workflow.directory, os.path.basename(workflow.directory))
    color = fmt == "text" and args.output is None and sys.stdout.isatty()
    _write_graph(render(view, fmt, color), args.output, fmt)
    return 0


def _write_graph(data: str | bytes, output: str | None, fmt: str) -> None:
    from datamake.errors import UsageError

    if output:
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        try:
            with open(output, "wb") as handle:
                handle.write(raw)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    elif isinstance(data, bytes):
        if sys.stdout.isatty():
            raise UsageError(f"--graph {fmt} is binary; write it to a file with -o graph.{fmt}")
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data)


def schedule(args: argparse.Namespace) -> int:
    """The schedule runner (SPEC §6): due intervals, catch-up, backfill, --date, dated targets."""
    from datamake.cli.cmd_schedule import run

    return run(args)


def status(args: argparse.Namespace) -> int:
    """`--status`: recorded and due intervals by step, as a table or JSON."""
    from datamake.cli.cmd_schedule import status as show

    return show(args)


def report(args: argparse.Namespace) -> int:
    """`--report html|json`: every workflow's intervals, runs and attempts, as one page or its data."""
    from datamake.cli.cmd_report import report as write

    return write(args)


def serve(args: argparse.Namespace) -> int:
    """`--serve`: the report's views live on 127.0.0.1, read-only."""
    from datamake.cli.cmd_report import serve as run_server

    return run_server(args)


def print_config(args: argparse.Namespace) -> int:
    """`--print-config`: each project setting, its effective value and its source."""
    import json

    from datamake.build.records import stamped
    from datamake.cli.defaults import configurable, render

    data = render(args.settings, args, configurable(build_parser()))
    if args.json:
        print(json.dumps(stamped(data)))
        return 0
    width = max(len(row["name"]) for row in data["settings"])
    for row in data["settings"]:
        value = "" if row["value"] is None else str(row["value"]).lower() if isinstance(row["value"], bool) \
            else str(row["value"])
        print(f"{row['name']:<{width}} = {value:<12} ({row['source']})")
    return 0

"""What each command-line mode does, in terms of the library (cli.py only parses and dispatches)."""
from __future__ import annotations

import argparse
import sys

from datamake.build.executors import factory as executors
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
    import os

    from datamake.store import storage
    from datamake.store import storage_options
    from datamake.language.options import drake_by_default
    from datamake.flow import with_python_steps

    path = workflow_path(args.workflow)
    settings = (tuple(getattr(args, "storage_option", [])), os.path.dirname(path))
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
    sys.stdout.write(render_json(workflow) if args.json else render_text(workflow))
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
    if args.preview:
        result = run_build(workflow, args.targets, preview=True, **common)
        sys.stdout.write(json.dumps(preview_json(result.plan, args.why)) + "\n" if args.json
                         else format_plan(result.plan, args.why))
        return 0
    # The progress display and the step lines go to stdout: a terminal there gets the live display.
    reporter = make_reporter(sys.stdout.isatty(), args.quiet, args.json, args.jobs, why=args.why)
    executor = make_executor(args, workflow, reporter)
    try:
        result = run_build(workflow, args.targets, executor=executor, reporter=reporter, **common)
    finally:
        executor.close()
        reporter.close()
    if not result.ok:
        failures = [f"{workflow.steps[i].label()} ({result.errors[i]})" for i in sorted(result.failed)]
        head = "step failed: " if len(failures) == 1 else f"{len(failures)} steps failed: "
        raise StepFailure(head + ", ".join(failures))
    return 0


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
        with open(output, "wb") as handle:
            handle.write(raw)
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

"""The default command: build the selected steps (or hand a dated workflow to the schedule runner)."""
from __future__ import annotations

import argparse
import json
import os
import sys

from datamake.build.builder import build as run_build
from datamake.build.executors import factory as executors
from datamake.build.reporting import NullReporter
from datamake.cli import cmd_schedule, noop_proof
from datamake.cli.alerts import dispatcher_of
from datamake.cli.args import pools_for
from datamake.cli.keep import keep_history
from datamake.cli.loading import load
from datamake.decide.fingerprint import RACY_NS
from datamake.errors import DatamakeError, StepFailure
from datamake.model import is_url
from datamake.store.statedb import default_state_dir
from datamake.store.storage_options import config_path
from datamake.views.reporters import make_reporter
from datamake.views.steps import format_plan, preview_json


def run(args: argparse.Namespace) -> int:
    """A schedule run when schedule flags are given or the workflow names $[DATE] & co (only the runner
    can bind them), else a build."""
    if args.schedule or args.date or args.from_ or args.to or cmd_schedule.scheduled(args):
        return cmd_schedule.run(args)
    return build(args)


def build(args: argparse.Namespace) -> int:
    """The default command: preview or run the selected steps; exit 1 lists every failed step."""
    globbed: dict[str, list[str]] = {}
    workflow = load(args, globbed=globbed)
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
    keep_history(args, common["state_dir"] or default_state_dir(workflow.path))
    if not result.ok:
        failures = [f"{workflow.steps[i].label()} ({result.errors[i]})" for i in sorted(result.failed)]
        head = "step failed: " if len(failures) == 1 else f"{len(failures)} steps failed: "
        raise StepFailure(head + ", ".join(failures))
    if not events and _provable(args, workflow, globbed):
        try:
            _prove_noop(args, workflow, globbed, common)
        except (OSError, DatamakeError):  # only a shortcut: without it the next run decides in full
            pass
    return 0


def _provable(args: argparse.Namespace, workflow, globbed: dict[str, list[str]]) -> bool:
    """Whether a no-op of this command can be proven by stats alone (see cli/noop_proof)."""
    plain_output = getattr(args, "argv", None) is not None and not (args.json or args.why or args.debug)
    plain_output = plain_output and args.executor == "local"
    here = os.path.realpath(args.state_dir or default_state_dir(workflow.path)) == os.path.realpath(".datamake")
    # A $(command) or a Python module may give other steps on another run; a remote name needs requests.
    fixed = not (workflow.commands or workflow.python_modules or any(is_url(p) for p in globbed))
    return plain_output and here and fixed and not any(
        is_url(t.name) for step in workflow.steps for t in step.inputs + step.outputs)


class _Listening(NullReporter):
    """Keeps the warnings of a decision instead of printing them."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, text: str) -> None:
        self.warnings.append(text)


def _prove_noop(args: argparse.Namespace, workflow, globbed: dict[str, list[str]], common: dict) -> None:
    """Decide again; if nothing would run and no file changed meanwhile, write the no-op proof."""
    state_dir = common["state_dir"] or default_state_dir(workflow.path)
    observed = noop_proof.Observation([t.name for s in workflow.steps for t in s.inputs + s.outputs], state_dir)
    if observed.directories() or (common["check"] == "hash" and observed.racy(RACY_NS)):
        return
    listening = _Listening()
    again = run_build(workflow, args.targets, preview=True, reporter=listening, **common)
    if listening.warnings or any(reason.dirty for _step, reason in again.plan):
        return  # a warning is part of what the full command prints
    said = "" if args.quiet else "Nothing to do.\n"
    observed.prove(args.argv, said, [*workflow.sources, config_path(workflow.directory)], globbed)


def make_executor(args: argparse.Namespace, workflow, reporter):
    """`--executor`: where steps run; each executor passes output lines to the reporter."""
    def on_output(job, line, stderr=False):
        reporter.step_output(workflow.steps[job.key], line, stderr)

    return executors.make_executor(args.jobs, on_output, kind=args.executor, scheduler_address=args.dask_scheduler,
                                   steps=workflow.steps)

"""`--lint [FILE...]`: parse and evaluate workflows without running anything; exit 2 at the first error.

Checks what a load checks (syntax, option and method names, includes, variables, `resources:`),
the whole graph (cycles, duplicated outputs) and a `%schedule` spec. No `$(command)` runs: each
is stood in for after its variables are checked, and an `%include` named by one is not followed.
"""
from __future__ import annotations

import argparse
import os

from datamake.build.executors.resources import step_resources
from datamake.graph.step_graph import build_graph
from datamake.cli.variables import parse_var_args
from datamake.language.load import load_workflow, workflow_path
from datamake.model import Workflow
from datamake.schedule import dated
from datamake.schedule.declared import declared


def run(args: argparse.Namespace) -> int:
    paths = [workflow_path(t) for t in args.targets] if args.targets else [workflow_path(args.workflow)]
    variables = parse_var_args(args.vars, args.var)
    for name, stand_in in dated.SENTINELS.items():  # interval variables: defined by the schedule runner
        variables.setdefault(name, stand_in)
    for path in paths:
        workflow = lint_file(path, variables, args.base)
        if not args.quiet:
            count = len(workflow.steps)
            print(f"{os.path.relpath(path)}: ok ({count} step{'' if count == 1 else 's'})")
    return 0


def lint_file(path: str, variables: dict[str, str], base: str | None) -> Workflow:
    workflow = load_workflow(path, variables=variables, base=base, run_commands=False)
    for step in workflow.steps:
        if step.error is not None:  # a broken step: a run reports it only once selected, the lint always
            raise step.error
        step_resources(step)
    build_graph(workflow).order(range(len(workflow.steps)))
    if workflow.schedule and workflow.schedule.get("spec"):  # its spec, zone, times and waits, located
        declared(dict(workflow.schedule), dict(workflow.schedule_locs or {}))
    return workflow

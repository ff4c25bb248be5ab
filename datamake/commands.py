"""What each command-line mode does, in terms of the library (cli.py only parses and dispatches)."""
from __future__ import annotations

import argparse
import sys

from .cli import workflow_path


def load(args: argparse.Namespace, extra_vars: dict[str, str] | None = None):
    """Parse and evaluate the workflow named by -w with the variables of -v/--var/--base."""
    from .parser import load_workflow, parse_var_args

    variables = parse_var_args(args.vars, args.var)
    if extra_vars:
        variables.update(extra_vars)
    return load_workflow(workflow_path(args.workflow), variables=variables, base=args.base)


def print_workflow(args: argparse.Namespace) -> int:
    from .printing import render_json, render_text

    workflow = load(args)
    sys.stdout.write(render_json(workflow) if args.json else render_text(workflow))
    return 0


def build(args: argparse.Namespace) -> int:
    raise NotImplementedError("build arrives with the local-builds issue")


def graph(args: argparse.Namespace) -> int:
    raise NotImplementedError("--graph arrives with the visualisation issue")


def schedule(args: argparse.Namespace) -> int:
    raise NotImplementedError("--schedule arrives with the schedule issue")


def status(args: argparse.Namespace) -> int:
    raise NotImplementedError("--status arrives with the schedule issue")

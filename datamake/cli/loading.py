"""The workflow the command line names: -w, -v/--var, --base, --drake and the storage options it needs."""
from __future__ import annotations

import argparse
import gc

from datamake.cli.variables import parse_var_args
from datamake.flow import with_python_steps
from datamake.graph.patterns import expand_patterns
from datamake.language.load import load_workflow, workflow_path
from datamake.language.options import drake_by_default
from datamake.model import Workflow, workflow_directory
from datamake.store import storage, storage_options

_configured: list = [None]  # the (--storage-option values, workflow dir) the storage layer was set up with


def load(args: argparse.Namespace, extra_vars: dict[str, str] | None = None, glob=storage.glob) -> Workflow:
    """The workflow of -w with its pattern steps expanded for the command line's targets (found by `glob`)."""
    return expand_patterns(load_written(args, extra_vars), getattr(args, "targets", ()), glob)


def load_written(args: argparse.Namespace, extra_vars: dict[str, str] | None = None) -> Workflow:
    """Parse and evaluate the workflow named by -w with the variables of -v/--var/--base.

    Also sets the storage options (--storage-option over the config file's [storage]) every mode needs.
    """
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

"""The workflow the command line names: -w, -v/--var, --base, --drake, and the Storage its names are read through."""
from __future__ import annotations

import argparse
import dataclasses
import gc
from typing import Callable

from datamake.cli.variables import parse_var_args
from datamake.flow import with_python_steps
from datamake.graph.patterns import expand_patterns
from datamake.language.load import load_workflow, workflow_path
from datamake.language.options import drake_by_default
from datamake.model import Workflow, workflow_directory
from datamake.store.storage import Storage


def load(args: argparse.Namespace, extra_vars: dict[str, str] | None = None,
         globbed: dict[str, list[str]] | None = None) -> Workflow:
    """The workflow of -w with its pattern steps expanded for the command line's targets.

    `globbed`, when given, gets each pattern the expansion looked up and the names it matched.
    """
    workflow = load_written(args, extra_vars)
    glob = workflow.storage.glob if globbed is None else _remembering(workflow.storage.glob, globbed)
    return expand_patterns(workflow, getattr(args, "targets", ()), glob)


def _remembering(glob: Callable[[str], list[str]], globbed: dict[str, list[str]]) -> Callable[[str], list[str]]:
    return lambda pattern: globbed.setdefault(pattern, glob(pattern))


def load_written(args: argparse.Namespace, extra_vars: dict[str, str] | None = None,
                 storage: Storage | None = None) -> Workflow:
    """Parse and evaluate the workflow named by -w with the variables of -v/--var/--base.

    It carries `storage`, by default one with the options every mode needs (--storage-option over
    the config file's [storage]); a schedule passes the one it read for its first evaluation.
    """
    path = workflow_path(args.workflow)
    if storage is None:
        storage = Storage.configured(workflow_directory(path), getattr(args, "storage_option", ()))
    variables = parse_var_args(args.vars, args.var)
    if extra_vars:
        variables.update(extra_vars)
    workflow = load_workflow(path, variables=variables, base=args.base)
    workflow = with_python_steps(dataclasses.replace(workflow, storage=storage))
    if getattr(args, "drake", False):
        workflow = drake_by_default(workflow)
    gc.freeze()  # the workflow lives as long as the command: later collections need not walk it again
    return workflow

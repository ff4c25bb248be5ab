"""The way in from outside: a workflow file (or a directory holding one) and starting variables -> a Workflow."""
from __future__ import annotations

import os
from typing import Mapping

from datamake.errors import UsageError
from datamake.gcpause import gc_paused
from datamake.language.evaluate import evaluate
from datamake.language.parser import parse_file
from datamake.model import Workflow


def workflow_path(arg: str | None) -> str:
    """Resolve `-w`: a file, or a directory holding a Drakefile; default ./Drakefile."""
    path = arg or "Drakefile"
    if os.path.isdir(path):
        path = os.path.join(path, "Drakefile")
    if not os.path.exists(path):
        raise UsageError(f"workflow not found: {path}", hint="use -w FILE or run where a Drakefile is")
    if os.path.isdir(path):
        raise UsageError(f"workflow {path} is a directory", hint="name the workflow file with -w FILE")
    return os.path.abspath(path)


def load_workflow(path: str, *, variables: Mapping[str, str] | None = None,
                  base: str | None = None, run_commands: bool = True) -> Workflow:
    """Parse (cached) and evaluate the workflow at `path` with the given starting variables.

    `run_commands=False` evaluates without running any `$(command)` (for --lint and completion).
    """
    path = os.path.abspath(path)
    with gc_paused():
        return evaluate(path, parse_file(path), variables or {}, base, run_commands)

"""The Python API: load a workflow and run it as the `datamake` command would, without argv."""
from __future__ import annotations

import os
from typing import Iterable

from datamake.build.builder import BuildResult, build
from datamake.model import Workflow


def load(path: str | os.PathLike | None = None, **variables: object) -> Workflow:
    """Parse and evaluate a workflow: a file, a directory holding a Drakefile, default ./Drakefile.

    Keyword arguments are variables, as with `--var NAME=value` (values become strings);
    `BASE=...` sets BASE like `--base`. Raises WorkflowError / UsageError (DatamakeErrors).
    """
    from datamake.store import storage
    from datamake.store import storage_options
    from datamake.cli.main import workflow_path
    from datamake.language.parser import load_workflow

    found = workflow_path(os.fspath(path) if path is not None else None)
    storage.configure(storage_options.gather([], os.path.dirname(found)))  # its datamake.cfg, if any
    values = {name: str(value) for name, value in variables.items()}
    base = values.pop("BASE", None)
    return load_workflow(found, variables=values, base=base)


def run(workflow: Workflow | str | os.PathLike | None = None, targets: str | Iterable[str] = (), *,
        jobs: int = 1, check: str = "timestamp", preview: bool = False, why: bool = False, auto: bool = False,
        fail_fast: bool = False, state_dir: str | None = None, quiet: bool = False) -> BuildResult:
    """Build `targets` (default: everything, SPEC §2) of a Workflow, or of the workflow at a path.

    Step failures are in the result (`ok`, `failed`, `errors`), not raised; workflow and usage
    errors raise before anything runs. `quiet` prints only failures; otherwise the step lines
    (or, on a terminal, the progress display) go to stdout as on the command line.
    """
    if not isinstance(workflow, Workflow):
        workflow = load(workflow)
    if isinstance(targets, str):  # one target, not its characters
        targets = [targets]
    reporter = None
    if quiet:
        from datamake.views.reporters import make_reporter

        reporter = make_reporter(False, True, False, jobs)
    return build(workflow, list(targets), jobs=jobs, check=check, preview=preview, why=why, auto=auto,
                 fail_fast=fail_fast, state_dir=state_dir and os.path.abspath(state_dir), reporter=reporter)

"""The Python API: load a workflow and run it as the `datamake` command would, without argv."""
from __future__ import annotations

import dataclasses
import os
import sys
from typing import Iterable, Mapping

from datamake.build.builder import build
from datamake.build.results import BuildResult
from datamake.events import EventSink
from datamake.flow import Flow, with_python_steps
from datamake.graph.patterns import expand_patterns
from datamake.language.evaluate import evaluate
from datamake.language.load import load_workflow, workflow_path
from datamake.language.parser import parse_text
from datamake.model import Workflow, workflow_directory
from datamake.store.storage import Storage
from datamake.views.graph_render import choose_format, render
from datamake.views.graph_view import view_of_plan
from datamake.views.reporters import make_reporter
from datamake.notify.dispatch import dispatcher


def load(path: str | os.PathLike | None = None, *, text: str | None = None,
         variables: Mapping[str, object] | None = None, base: str | None = None) -> Workflow:
    """Parse and evaluate a workflow: a file, a directory holding a Drakefile (default ./Drakefile),
    or `text` (read as if it were a Drakefile in `path`, a directory, default the current one).

    `variables` are as with `--var NAME=value` (values become strings); `base` is `--base`.
    Pattern steps are expanded from the files there now. Raises WorkflowError / UsageError.
    The workflow reads and writes its files with the storage options of its directory's
    `datamake.cfg` (or $DATAMAKE_CONFIG), whatever other workflows in the process use.
    """
    values = {name: str(value) for name, value in (variables or {}).items()}
    if text is not None:
        directory = os.path.abspath(os.fspath(path) if path is not None else ".")
        found = os.path.join(directory, "<text>")
        storage = Storage.configured(directory)
        workflow = evaluate(found, parse_text(text, found), values, base)
    else:
        found = workflow_path(os.fspath(path) if path is not None else None)
        storage = Storage.configured(workflow_directory(found))  # its datamake.cfg, if any
        workflow = load_workflow(found, variables=values, base=base)
    return with_python_steps(dataclasses.replace(workflow, storage=storage))


def _expanded(workflow: Workflow | Flow | str | os.PathLike | None, targets: list[str]) -> Workflow:
    if isinstance(workflow, Flow):
        workflow = workflow.workflow()
    elif not isinstance(workflow, Workflow):
        workflow = load(workflow)
    if workflow.storage is None:  # a Flow's, or evaluated without load(): the options of its directory
        workflow = dataclasses.replace(workflow, storage=Storage.configured(workflow.directory))
    return expand_patterns(workflow, targets, workflow.storage.glob)


def run(workflow: Workflow | Flow | str | os.PathLike | None = None, targets: str | Iterable[str] = (), *,
        jobs: int = 1, check: str = "timestamp", preview: bool = False, why: bool = False, auto: bool = False,
        fail_fast: bool = False, state_dir: str | None = None, quiet: bool = False,
        events: EventSink | None = None) -> BuildResult:
    """Build `targets` (default: everything, SPEC §2) of a Workflow, or of the workflow at a path.

    Step failures are in the result (`ok`, `failed`, `errors`), not raised; workflow and usage
    errors raise before anything runs. `quiet` prints only failures; otherwise the step lines
    (or, on a terminal, the progress display) go to stdout as on the command line. `events`
    gets every `datamake.events.Event`; by default they go to the workflow's `%on` hooks and
    `%notify` notifiers.
    """
    if isinstance(targets, str):  # one target, not its characters
        targets = [targets]
    targets = list(targets)
    workflow = _expanded(workflow, targets)
    events = dispatcher(workflow) if events is None else events
    reporter = None if preview else make_reporter(sys.stdout.isatty(), quiet, False, jobs, why=why)
    try:
        return build(workflow, targets, jobs=jobs, check=check, preview=preview, why=why, auto=auto,
                     fail_fast=fail_fast, state_dir=state_dir and os.path.abspath(state_dir), reporter=reporter,
                     events=events or None)
    finally:
        if reporter is not None:  # a live display must end even when the run is interrupted
            reporter.close()


def render_graph(workflow: Workflow | Flow | str | os.PathLike | None = None, targets: str | Iterable[str] = (), *,
          format: str = "text", check: str = "timestamp", state_dir: str | None = None) -> str | bytes:
    """What `--graph FORMAT` draws (dot, mermaid, text, html, svg, png): the selected steps with their
    states from a preview, and the last run. svg and png are bytes and need Graphviz's `dot`."""
    targets = [targets] if isinstance(targets, str) else list(targets)
    workflow = _expanded(workflow, targets)
    fmt = choose_format(format, None)
    state_dir = os.path.abspath(state_dir) if state_dir else os.path.join(workflow.directory, ".datamake")
    result = build(workflow, targets, check=check, preview=True, state_dir=state_dir)
    view = view_of_plan(result.plan, state_dir, workflow.directory, os.path.basename(workflow.directory))
    return render(view, fmt, False)

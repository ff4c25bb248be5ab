"""`--clean [TARGETS]`: remove the outputs of the selected steps and forget their records.

Only inside the workflow's directory: a local output elsewhere is kept, whatever is asked. A
remote output (s3://...) is removed only when targets were named on the command line (asked for),
never by a bare `--clean`. The workflow files and the state directory are never touched.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from datamake.graph.select import select
from datamake.graph.step_graph import build_graph
from datamake.model import Workflow, is_url, relative_to
from datamake.store.storage import storage_of
from datamake.build.lock import acquire_lock, open_store
from datamake.store.statedb import step_key


@dataclass
class Cleaned:
    """What `--clean` removed (or, previewing, would remove) and what it kept, with why."""

    removed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)  # step indexes whose records are gone


def clean(workflow: Workflow, targets: list[str], *, state_dir: str, preview: bool = False) -> Cleaned:
    """Remove the existing outputs of the steps `targets` select (default every step)."""
    sg = build_graph(workflow)
    steps = [sg.step(sel.index) for sel in select(sg, targets, allow_broken=True)]
    if preview:
        return _sweep(workflow, steps, state_dir, bool(targets), remove=False)
    with acquire_lock(state_dir):  # not while another datamake builds here
        result = _sweep(workflow, steps, state_dir, bool(targets), remove=True)
        _forget(state_dir, [step_key(step) for step in steps])
    return result


def _sweep(workflow: Workflow, steps, state_dir: str, asked: bool, remove: bool) -> Cleaned:
    protected = {os.path.realpath(p) for p in (workflow.path, state_dir, os.path.join(workflow.directory, ".datamake"))}
    result = Cleaned(forgotten=[step.index for step in steps])
    storage = storage_of(workflow)
    for step in steps:
        for target in step.outputs:
            shown = relative_to(target.name, workflow.directory)
            why = _kept_because(target.name, workflow.directory, protected, asked)
            if why:
                result.kept.append((shown, why))
            elif storage.exists(target.name):
                result.removed.append(shown)
                if remove:
                    storage.discard(target.name)
    return result


def _kept_because(name: str, directory: str, protected: set[str], asked: bool) -> str | None:
    if is_url(name):
        return None if asked else "remote: removed only when its step is named, e.g. --clean TARGET"
    real = os.path.realpath(name)
    inside = real.startswith(os.path.realpath(directory).rstrip(os.sep) + os.sep)
    if not inside:
        return "outside the workflow's directory"
    if any(real == p or real.startswith(p + os.sep) or p.startswith(real + os.sep) for p in protected):
        return "the workflow or its state"
    return None


def _forget(state_dir: str, keys: list[str]) -> None:
    if not os.path.exists(os.path.join(state_dir, "state.db")):
        return  # never built: nothing recorded
    store = open_store(state_dir)
    try:
        store.forget_successes(keys)
    finally:
        store.close()

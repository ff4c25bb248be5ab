"""Every step's state for `--list`: decided like a preview, but a step that cannot be decided says why instead of stopping the rest."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from datamake.errors import DatamakeError
from datamake.graph.select import Selected
from datamake.graph.step_graph import StepGraph
from datamake.model import Step
from datamake.decide.fingerprint import HashCache
from datamake.decide.staleness import Facts, explain
from datamake.store.storage import Storage


@dataclass(frozen=True)
class StepState:
    """One step as `--list` shows it: `state` is "will run", "up to date", "broken" or "blocked"."""

    step: Step
    state: str
    reason: str
    evidence: str = ""


def survey(sg: StepGraph, selection: list[Selected], *, check: str,
           record_of: Callable[[Step], object], hashes: HashCache | None = None,
           storage: Storage | None = None) -> list[StepState]:
    """Each selected step's state in order; a step below one that will run is `projected`, as in decide()."""
    made = frozenset(t.name for sel in selection for t in sg.step(sel.index).outputs)
    will_run: set[int] = set()
    states: list[StepState] = []
    names = [t.name for sel in selection for t in sg.step(sel.index).inputs + sg.step(sel.index).outputs
             if "://" in t.name]
    seen = (storage or Storage()).snapshot(names)
    for sel in selection:
        step = sg.step(sel.index)
        if step.error is not None:
            states.append(StepState(step, "broken", step.error.render().split("\n")[0]))
            continue
        upstream = next((sg.step(p) for p in sg.pred[sel.index] if p in will_run), None)
        try:
            reason = explain(step, Facts(sel.forced, sel.via, upstream, made, check, record_of(step), hashes, seen))
        except DatamakeError as err:  # a missing input nobody makes
            states.append(StepState(step, "blocked", err.message))
            continue
        if reason.dirty:
            will_run.add(sel.index)
        states.append(StepState(step, "will run" if reason.dirty else "up to date", reason.label,
                                reason.evidence))
    return states

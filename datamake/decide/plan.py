"""The plan: every selected step's decision up front, then which wanted steps are ready (like ninja's Plan)."""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Callable, Mapping

from datamake.store.storage import Storage
from datamake.gcpause import gc_paused
from datamake.graph.step_graph import StepGraph
from datamake.model import Step
from datamake.graph.select import Selected
from datamake.decide.fingerprint import HashCache
from datamake.decide.staleness import Facts, Reason, explain


@dataclass(frozen=True)
class Entry:
    """One selected step and its decision; `reason.dirty` means it is wanted."""

    step: Step
    reason: Reason


def decide(sg: StepGraph, selection: list[Selected], *, check: str,
           record_of: Callable[[Step], object], hashes: HashCache | None = None,
           storage: Storage | None = None) -> list[Entry]:
    """Decide each selected step in order; a step below one that will run is `projected`.

    `record_of(step)` gives the step's last recorded success or None; `hashes` remembers content
    fingerprints of unchanged files (the state store); `storage` is the workflow's.
    """
    steps = [sg.step(sel.index) for sel in selection]
    made = frozenset(t.name for step in steps for t in step.outputs)
    will_run: dict[int, Step] = {}
    entries: list[Entry] = []
    names = [t.name for step in steps for t in step.inputs if "://" in t.name]
    names += [t.name for step in steps for t in step.outputs if "://" in t.name]
    seen = (storage or Storage()).snapshot(names)  # each name stat'ed once; remote ones in bulk, one listing per prefix
    with gc_paused():
        for sel, step in zip(selection, steps):
            upstream = None
            if will_run:
                upstream = next((will_run[p] for p in sg.pred[sel.index] if p in will_run), None)
            facts = Facts(sel.forced, sel.via, upstream, made, check, record_of(step), hashes, seen)
            entry = Entry(step, explain(step, facts))
            if entry.reason.dirty:
                will_run[sel.index] = step
            entries.append(entry)
    return entries


class Plan:
    """Tracks the wanted steps while they run: ready ones, finished ones, skipped dependants."""

    def __init__(self, sg: StepGraph, entries: list[Entry]):
        self.sg = sg
        self.entries: Mapping[int, Entry] = {e.step.index: e for e in entries if e.reason.dirty}
        self._position = {e.step.index: n for n, e in enumerate(entries)}
        self._waiting = {i: sum(1 for p in sg.pred[i] if p in self.entries) for i in self.entries}
        # Ready steps start by `[priority:N]` (higher first), then in plan order.
        self._order = {i: (-e.step.options.priority, self._position[i]) for i, e in self.entries.items()}
        self._ready = [(self._order[i], i) for i, n in self._waiting.items() if n == 0]
        heapq.heapify(self._ready)
        self.started: set[int] = set()
        self.skipped: dict[int, str] = {}  # index -> why it was not run

    def has_ready(self) -> bool:
        return bool(self._ready)

    def pop_ready(self) -> int:
        """The next step whose wanted dependencies all succeeded, in plan order."""
        _pos, index = heapq.heappop(self._ready)
        self.started.add(index)
        return index

    def succeeded(self, index: int) -> None:
        for nxt in self.sg.succ[index]:
            if nxt in self._waiting and nxt not in self.skipped:
                self._waiting[nxt] -= 1
                if self._waiting[nxt] == 0:
                    heapq.heappush(self._ready, (self._order[nxt], nxt))

    def failed(self, index: int) -> list[int]:
        """Skip every wanted step below a failed one; returns them in plan order."""
        below, stack = set(), [index]
        while stack:  # only through wanted steps: an unselected step in between is not waited for
            for nxt in self.sg.succ[stack.pop()]:
                if nxt in self.entries and nxt not in below:
                    below.add(nxt)
                    stack.append(nxt)
        label = self.sg.step(index).label()
        newly = sorted((i for i in below if i not in self.skipped and i not in self.started),
                       key=self._position.__getitem__)
        for i in newly:
            self.skipped[i] = f"upstream step {label} failed"
        return newly

    def abandon(self, why: str) -> list[int]:
        """Skip everything not yet started (fail-fast, interruption)."""
        rest = sorted((i for i in self.entries if i not in self.started and i not in self.skipped),
                      key=self._position.__getitem__)
        for i in rest:
            self.skipped[i] = why
        self._ready = []
        return rest

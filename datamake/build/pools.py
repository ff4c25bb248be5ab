"""Pools: named slot counts (`%pool db 2`) that steps marked `[pool:db]` share, across every build of a run."""
from __future__ import annotations

import threading
from typing import Mapping

from datamake.errors import WorkflowError
from datamake.model import Step, Workflow


class Pools:
    """Free slots per pool; one object for a whole run, so intervals built at once share it."""

    def __init__(self, slots: Mapping[str, int] | None = None):
        self._free = dict(slots or {})
        self._lock = threading.Lock()

    def take(self, step: Step) -> bool:
        """Take a slot of the step's pool; False when it is full. A step without a pool always may run."""
        name = step.options.pool
        if name is None or name not in self._free:
            return True
        with self._lock:
            if self._free[name] <= 0:
                return False
            self._free[name] -= 1
            return True

    def give_back(self, step: Step) -> None:
        name = step.options.pool
        if name is not None and name in self._free:
            with self._lock:
                self._free[name] += 1


def pools_of(workflow: Workflow) -> Pools:
    """The workflow's declared pools, each step's pool checked: an undeclared one is an error at the step."""
    for step in workflow.steps:
        name = step.options.pool
        if name is not None and name not in workflow.pools:
            declared = ", ".join(sorted(workflow.pools)) or "none"
            raise WorkflowError(f"unknown pool: {name} (declared: {declared}; add `%pool {name} SLOTS`)", step.loc)
    return Pools({name: decl.slots for name, decl in workflow.pools.items()})


class Held:
    """Steps ready to run whose pool is full, waiting for a slot (ours or another interval's), by priority."""

    POLL = 0.05  # seconds between looks for a slot another build may have freed

    def __init__(self) -> None:
        self._items: list[tuple[int, int, int]] = []  # (-priority, step index, attempt number in this run)

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, step: Step, number: int) -> None:
        self._items.append((-step.options.priority, step.index, number))
        self._items.sort()

    def pop_startable(self, pools: Pools, step_of) -> tuple[int, int] | None:
        """The first held step whose pool now has a slot (the slot taken), as (index, number)."""
        for item in self._items:
            if pools.take(step_of(item[1])):
                self._items.remove(item)
                return item[1], item[2]
        return None

    def clear(self) -> list[int]:
        """Forget every held step; returns their indexes."""
        indexes = [index for _p, index, _n in self._items]
        self._items = []
        return indexes

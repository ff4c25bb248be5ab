"""Pools: named slot counts (`%pool db 2`) that steps marked `[pool:db]` share, across every build of a run."""
from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

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


def declared_pools(workflow: Workflow) -> Pools:
    """The slots of the workflow's `%pool`s, for one build alone."""
    return Pools({name: decl.slots for name, decl in workflow.pools.items()})


def pools_of(workflow: Workflow) -> Pools:
    """The workflow's declared pools, each step's pool checked: an undeclared one is an error at the step."""
    for step in workflow.steps:
        name = step.options.pool
        if name is not None and name not in workflow.pools:
            declared = ", ".join(sorted(workflow.pools)) or "none"
            raise WorkflowError(f"unknown pool: {name} (declared: {declared}; add `%pool {name} SLOTS`)", step.loc)
    return declared_pools(workflow)


class Gate:
    """A build's way into the pools: a step starts when its pool has a slot, else it is held, by priority,
    until one comes free (in this build or in another interval's)."""

    POLL = 0.05  # seconds between looks for a slot another build may have freed

    def __init__(self, pools: Pools):
        self.pools = pools
        self._held: list[tuple[int, int, int]] = []  # (-priority, step index, attempt number in this run)

    def __bool__(self) -> bool:
        return bool(self._held)

    def admit(self, step: Step, number: int) -> bool:
        """True when the step may start now (its slot taken); else it is held."""
        if self.pools.take(step):
            return True
        self._held.append((-step.options.priority, step.index, number))
        self._held.sort()
        return False

    def release(self, step: Step) -> None:
        """The step's try ended: its slot is free again."""
        self.pools.give_back(step)

    def startable(self, step_of: Callable[[int], Step]) -> tuple[int, int] | None:
        """The first held step whose pool now has a slot (the slot taken), as (index, number)."""
        for item in self._held:
            if self.pools.take(step_of(item[1])):
                self._held.remove(item)
                return item[1], item[2]
        return None

    def wait(self, retries: list[float]) -> float | None:
        """How long the build may block: until the first of `retries` (monotonic times) is due, and while
        steps are held no longer than POLL (a slot may come free in another interval's build)."""
        wait = max(0.0, min(retries) - time.monotonic()) if retries else None
        return wait if not self._held else self.POLL if wait is None else min(wait, self.POLL)

    def abandon(self, plan, why: str) -> list[int]:
        """Skip every step of `plan` not started yet, also those held here; returns them in index order."""
        held = [index for _p, index, _n in self._held]
        self._held = []
        for index in held:
            plan.skipped[index] = why
        return sorted(held + plan.abandon(why))

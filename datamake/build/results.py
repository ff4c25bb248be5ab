"""What a build is asked (its scope and options) and what it answers (BuildResult)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from datamake.build.pools import Pools
from datamake.decide.staleness import Reason
from datamake.events import EventSink, ignore
from datamake.model import Step
from datamake.store.storage import Storage


@dataclass
class BuildResult:
    """What a build decided and did; indexes are 0-based in file order."""

    plan: list[tuple[Step, Reason]]
    ran: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    up_to_date: list[int] = field(default_factory=list)  # projected steps found unchanged when re-checked
    errors: dict[int, str] = field(default_factory=dict)  # failed step index -> why
    logs: dict[int, str | None] = field(default_factory=dict)  # step index -> log of its last attempt (None: it printed nothing)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def wanted(self) -> list[tuple[Step, Reason]]:
        """The planned steps that will run, with their reasons."""
        return [(step, reason) for step, reason in self.plan if reason.dirty]


@dataclass(frozen=True)
class Scope:
    """What a build's attempts belong to: the workflow, the schedule interval ('' for none), step names.

    `name_of` gives a step's name as recorded and logged; a schedule passes one that is the same in
    every interval (`report/$[DATE].csv`).
    """

    workflow: str
    interval: str = ""
    name_of: Callable[[Step], str] = Step.label


@dataclass(frozen=True)
class RunOptions:
    jobs: int
    check: str
    auto: bool
    fail_fast: bool
    state_dir: str
    scope: Scope
    events: EventSink = ignore  # step_started, step_retried, step_failed, step_succeeded
    pools: Pools = field(default_factory=Pools)  # `%pool` slots, shared by every build of a run
    storage: Storage = field(default_factory=Storage)  # the workflow's stores: outputs stat'ed, published, removed

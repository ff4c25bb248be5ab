"""Previews: decisions against a read-only copy of the state, which is never created, changed or moved."""
from __future__ import annotations

import os

from datamake.graph.step_graph import StepGraph
from datamake.decide.plan import Entry, decide
from datamake.decide.survey import StepState, survey
from datamake.store.statedb import StateStore, step_key
from datamake.store.storage import Storage


class ReadOnlyState:
    """The recorded successes of a state directory, read once for any number of previews.

    A missing database reads as empty. A schedule's preview keeps one for all its intervals
    instead of copying the database once per interval.
    """

    def __init__(self, state_dir: str, warn):
        self.store: StateStore | None = None
        self.records: dict = {}
        if os.path.exists(os.path.join(state_dir, "state.db")):  # never built: nothing recorded to copy
            self.store = StateStore.open_readonly(state_dir)
            for text in self.store.warnings:
                warn(text)
            self.records = self.store.load_successes()

    def decide(self, sg: StepGraph, selection, check: str, storage: Storage | None = None) -> list[Entry]:
        """The selected steps' decisions, their files read through `storage` (the workflow's)."""
        if self.store is None:
            return decide(sg, selection, check=check, record_of=lambda step: None, storage=storage)
        records = self.records  # the recorded content hashes (the store) spare re-reading unchanged files
        return decide(sg, selection, check=check, record_of=lambda step: records.get(step_key(step)),
                      hashes=self.store, storage=storage)

    def survey(self, sg: StepGraph, selection, check: str, storage: Storage | None = None) -> list[StepState]:
        """Every selected step's state, for --list; a step that cannot be decided says why."""
        records = self.records
        return survey(sg, selection, check=check, record_of=lambda step: records.get(step_key(step)),
                      hashes=self.store, storage=storage)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> "ReadOnlyState":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def decide_read_only(sg: StepGraph, selection, check: str, storage: Storage, state: ReadOnlyState | None,
                     state_dir: str, warn) -> list[Entry]:
    """Decisions against a read-only copy of the state: `state` when one is kept for many previews, else
    `state_dir`'s, read now. A preview never creates, changes or moves the state."""
    if state is not None:
        return state.decide(sg, selection, check, storage)
    with ReadOnlyState(state_dir, warn) as own:
        return own.decide(sg, selection, check, storage)

"""Previews: decisions against a read-only copy of the state, which is never created, changed or moved."""
from __future__ import annotations

import os

from datamake.graph.step_graph import StepGraph
from datamake.decide.plan import Entry, decide
from datamake.decide.survey import StepState, survey
from datamake.store.statedb import StateStore, step_key


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

    def decide(self, sg: StepGraph, selection, check: str) -> list[Entry]:
        if self.store is None:
            return decide(sg, selection, check=check, record_of=lambda step: None)
        records = self.records  # the recorded content hashes (the store) spare re-reading unchanged files
        return decide(sg, selection, check=check, record_of=lambda step: records.get(step_key(step)),
                      hashes=self.store)

    def survey(self, sg: StepGraph, selection, check: str) -> list[StepState]:
        """Every selected step's state, for --list; a step that cannot be decided says why."""
        records = self.records
        return survey(sg, selection, check=check, record_of=lambda step: records.get(step_key(step)),
                      hashes=self.store)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> "ReadOnlyState":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

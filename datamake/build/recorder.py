"""What a build writes to the state store about each try: its attempt row and, on success, the step's record.

A success whose outputs are all local files made through their temporaries is recorded *before*
the renames put them in place, with the outputs' (inode, mtime) once there and the record it
replaces (StateStore.publishing): a runner killed between that commit and the renames leaves
nothing half-true, since the next run finds the outputs not in place and undoes the record
(StateStore.settle_publishing). Other successes (remote outputs, directories) are recorded right
after their outputs are in place.
"""
from __future__ import annotations

from typing import Callable

from datamake.build.executors.base import JobResult
from datamake.build.jobs import InFlight
from datamake.build.results import RunOptions
from datamake.decide.staleness import command_hash, stamp_text
from datamake.errors import DatamakeError
from datamake.model import Step
from datamake.store.schema import StateError
from datamake.store.statedb import AttemptWhere, StateStore, step_key


class Recorder:
    """Writes the attempts and successes of one run; a write the database refuses goes to `unwritable`."""

    def __init__(self, store: StateStore, options: RunOptions, reasons: dict, unwritable: Callable[[StateError], None]):
        self.store, self.opts, self.reasons, self.unwritable = store, options, reasons, unwritable
        self.run_id = 0

    def success(self, step: Step, attempt: InFlight, result: JobResult,
                placed: dict[str, tuple[int, int]] | None = None) -> str | None:
        """Record a success (None), or say why it could not be: then the step counts as failed. With
        `placed` (each output's inode and mtime once renamed) it is recorded before the renames."""
        try:
            with self.store.transaction():  # one commit for both records
                attempt_id = self.store.record_attempt(*self._row(step, attempt, result, "success"))
                if placed is not None:
                    self.store.publishing(self.run_id, step_key(step), attempt_id, placed)
                self._success(step, attempt, result)
        except StateError as err:
            self.unwritable(err)
            return f"its success could not be recorded: {err.message}"
        except DatamakeError as err:  # an output's stamp could not be read back
            return err.message
        attempt.recorded = True
        return None

    def unpublished(self) -> None:
        """A rename failed after its success was recorded: undo the record now (the next run would)."""
        try:
            self.store.settle_publishing(self.run_id)
        except StateError as err:
            self.unwritable(err)

    def attempt(self, step: Step, attempt: InFlight, result: JobResult, outcome: str, error: str | None = None) -> None:
        try:
            self.store.record_attempt(*self._row(step, attempt, result, outcome, error))
        except StateError as err:
            self.unwritable(err)

    def _success(self, step: Step, attempt: InFlight, result: JobResult) -> None:
        inputs, kept = attempt.record
        outputs = {t.name: kept.get(t.name) or stamp_text(s) for t in step.outputs
                   if t.name in kept or (s := self.opts.storage.stat(t.name)) is not None}
        self.store.record_success(step_key(step), command_hash(step), inputs, outputs, result.started, result.finished)

    def _row(self, step: Step, attempt: InFlight, result: JobResult, outcome: str, error: str | None = None) -> tuple:
        scope = self.opts.scope
        where = AttemptWhere(scope.workflow, scope.interval, scope.name_of(step), attempt.ordinal, result.returncode)
        return (self.run_id, step_key(step), step.index, step.label(), outcome, attempt.started, result.finished,
                attempt.log_path or None, str(self.reasons[step.index]), error, where)

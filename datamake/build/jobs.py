"""One try of a step made ready to run: temporary outputs, `+local` staging, its numbered log, the Job itself."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from datamake.build import outputs as step_outputs
from datamake.build.attempt_logs import reserve_log
from datamake.build.environment import VARIABLE_LIMIT, fit_lists
from datamake.build.executors.base import Job, JobResult
from datamake.build.executors.resources import step_resources
from datamake.build.staging import Staging
from datamake.model import Step, relative_to, render_body
from datamake.store.stamps import ensure_parent, temp_name
from datamake.store.storage import Storage


@dataclass
class InFlight:
    """One submitted try of a step: its number in this run (0 first), temporary outputs, log.

    `ordinal` is its number as recorded: 1, 2, ... per interval and step across runs.
    """

    number: int
    started: float
    log_path: str
    temps: dict[str, str]  # output name -> temporary name (empty when -atomic)
    stage: Staging | None = None  # `+local`: local copies of remote inputs and outputs
    ordinal: int = 1
    before: dict = field(default_factory=dict)  # local output -> its stamp before the step (atomic steps)
    record: tuple[dict, dict] = ({}, {})  # a success's recorded inputs and renamed outputs (outputs.success_record)
    recorded: bool = False  # its success is in the state store

    def cleanup(self) -> None:
        if self.stage:
            self.stage.cleanup()


def prepare_try(step: Step, number: int, storage: Storage) -> InFlight:
    """Make the outputs' folders, pick temporary names (atomic steps), stage `+local` files; no log yet.

    Raises DatamakeError when a remote input cannot be fetched.
    """
    atomic = step.options.atomic and not step.options.drake  # Drake's $OUTPUT is the real name
    before = step_outputs.stamps_before(step) if atomic else {}
    temps = {t.name: temp_name(t.name) for t in step.outputs} if atomic else {}
    for target in step.outputs:
        ensure_parent(target.name)
        if atomic:
            storage.discard(temps[target.name])  # a crashed run's leftover
    stage = Staging.prepare([t.name for t in step.inputs], [t.name for t in step.outputs], storage) \
        if step.options.local else None
    temps.update(stage.outputs if stage else {})  # staged outputs are uploaded by publish
    return InFlight(number, time.time(), "", temps, stage, 0, before)


class Logs:
    """Each try's own log file, numbered per interval and step across runs (see attempt_logs)."""

    def __init__(self, store, state_dir: str, scope, planned: list[Step] = ()):
        self.store, self.state_dir, self.interval = store, state_dir, scope.interval
        self.next: dict[int, int] = {}  # step index -> the recorded number of its next attempt
        self.taken: set[str] = set()  # paths given to this run's attempts (made only when one prints)
        # The planned steps' last numbers, read at once: a read per step cost a lock round per step.
        self.planned = {scope.name_of(step) for step in planned}
        self.recorded = store.last_attempt_numbers(self.interval, list(self.planned)) if planned else {}

    def reserve(self, step: Step, name: str) -> tuple[int, str]:
        """The next try's recorded number and its own log path (earlier runs' logs are kept)."""
        number = self.next.get(step.index)
        if number is None:
            last = self.recorded.get(name, 0) if name in self.planned else \
                self.store.last_attempt_number(self.interval, name)
            number = last + 1
        number, path = reserve_log(self.state_dir, self.interval, name, number, self.taken)
        self.next[step.index] = number + 1
        return number, path


def make_job(step: Step, attempt: InFlight, environ: dict[str, str], prefixed: bool, storage: Storage) -> Job:
    """The Job of this try: the body with $OUTPUT & co pointing at temporaries and staged copies."""
    outs = tuple(relative_to(attempt.temps.get(t.name, t.name), step.workdir) for t in step.outputs)
    stage = attempt.stage
    ins = input_names(step, stage, storage) if stage or any(t.optional for t in step.inputs) else None
    values = step.step_vars(outputs=outs, inputs=ins)
    env = {**environ, **step.vars, **values}
    if len(values.get("INPUTS", "")) + len(values.get("OUTPUTS", "")) > VARIABLE_LIMIT // 2:
        ins = ins if ins is not None else tuple(relative_to(t.name, step.workdir) for t in step.inputs)
        env = fit_lists(env, {"INPUTS": ins, "OUTPUTS": outs}, attempt.log_path)
    if step.protocol == "python":  # a module beside the workflow is importable, as beside a script
        env["PYTHONPATH"] = step.workdir + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return Job(key=step.index, label=step.label(), protocol=step.protocol, drake=step.options.drake,
               script=render_body(step.body_parts, values), env=env, cwd=step.workdir,
               log_path=attempt.log_path, timeout=step.options.timeout,
               prefix=step.label() if prefixed else None, resources=step_resources(step))


def input_names(step: Step, stage: Staging | None, storage: Storage) -> tuple[str, ...]:
    """$INPUTn values: local copies of staged inputs; an optional input that is not there is empty (SPEC §1)."""
    names = []
    for target in step.inputs:
        if target.optional and not storage.exists(target.name):
            names.append("")
        else:
            names.append(relative_to(stage.local(target.name) if stage else target.name, step.workdir))
    return tuple(names)


def job_error(result: JobResult) -> str | None:
    if result.ok:
        return None
    if result.error:
        return result.error
    if result.timed_out:
        return "timed out"
    return f"exit status {result.returncode}"

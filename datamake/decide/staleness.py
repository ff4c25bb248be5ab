"""The rebuild decision for one step (SPEC §3): first matching rule, returned with its evidence.

Drake compatibility: a step with no success recorded yet (a project built before datamake,
or a fresh state directory) whose outputs exist is judged by timestamps alone, so adopting
datamake does not rebuild everything. `command changed` needs a record to compare with, and
hash mode without recorded fingerprints falls back to timestamps for the same reason.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import AbstractSet, Callable, Protocol

from datamake.errors import UsageError
from datamake.decide.fingerprint import HashCache, fingerprint
from datamake.model import Step, relative_to
from datamake.store.stamps import Stamp
from datamake.store.storage import Storage

UP_TO_DATE = "up to date"
_STAMP_PREFIX = "stamp:"  # recorded values that are stamps, not content fingerprints


class Reason:
    """Why a step runs (or, with label "up to date", why not), with the evidence behind it.

    The evidence may be given as a function and its arguments: it is then written only when
    read (--why, --preview, the log), not for each of 20,000 up-to-date steps of a no-op.
    """

    __slots__ = ("label", "_evidence", "_args")

    def __init__(self, label: str, evidence: str | Callable[..., str] = "", *args):
        self.label = label
        self._evidence = evidence
        self._args = args

    @property
    def evidence(self) -> str:
        if not isinstance(self._evidence, str):
            self._evidence = self._evidence(*self._args)
            self._args = ()
        return self._evidence

    @property
    def dirty(self) -> bool:
        return self.label != UP_TO_DATE

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reason):
            return NotImplemented
        return (self.label, self.evidence) == (other.label, other.evidence)

    def __hash__(self) -> int:
        return hash((self.label, self.evidence))

    def __repr__(self) -> str:
        return f"Reason(label={self.label!r}, evidence={self.evidence!r})"

    def __str__(self) -> str:
        return f"{self.label}: {self.evidence}" if self.evidence else self.label


class SuccessRecord(Protocol):
    """What the state store kept about a step's last success (see state.SuccessRecord)."""

    command_hash: str
    inputs: dict[str, str]


@dataclass(frozen=True)
class Facts:
    """Everything outside the step that the decision depends on."""

    forced: bool = False
    via: str | None = None  # "tag" or "method"
    projected_by: Step | None = None  # an upstream step that will run first
    made: AbstractSet[str] = frozenset()  # outputs of the selected steps
    check: str = "timestamp"  # the run's default; a step's [check:...] wins
    record: SuccessRecord | None = None
    hashes: HashCache | None = None  # remembered content fingerprints (the state store); None reads every file
    storage: Storage = field(default_factory=Storage)  # the workflow's stores (a snapshot while deciding a plan)


def explain(step: Step, facts: Facts) -> Reason:
    """SPEC §3 in order; an up-to-date step gets Reason("up to date", evidence) too.

    Raises UsageError `missing input: PATH` when a required input is absent and no
    selected step makes it.
    """
    stat = facts.storage.stat
    inputs = {t.name: stat(t.name) for t in step.inputs}
    _check_inputs(step, inputs, facts.made)
    if facts.forced:
        return Reason("forced")
    if facts.via:
        return Reason(f"via {facts.via}")
    if not step.outputs:
        return Reason(UP_TO_DATE, "no file outputs: runs only when forced or chosen by tag or method")
    outputs = {t.name: stat(t.name) for t in step.outputs}
    for name, stamp in outputs.items():
        if stamp is None or stamp.empty:
            return Reason("missing output", _missing_text, step, name, stamp)
    if not step.options.timecheck:
        return Reason(UP_TO_DATE, "-timecheck: outputs exist")
    if facts.projected_by:
        return Reason("projected", _projected_text, facts.projected_by)
    present = {n: s for n, s in inputs.items() if s is not None}
    if not present:
        return Reason("no-input step", "no existing file inputs")
    mode = step.options.check or facts.check
    changed = _by_content(step, present, facts) if mode == "hash" else None
    changed = changed or _by_timestamp(step, present, outputs)
    if changed.dirty:
        return changed
    return _by_command(step, facts.record) or changed


def _missing_text(step: Step, name: str, stamp: Stamp | None) -> str:
    return _show(step, name) + (" is an empty directory" if stamp else " does not exist")


def _projected_text(upstream: Step) -> str:
    return f"upstream step {upstream.label()} will run first"


def _check_inputs(step: Step, inputs: dict[str, Stamp | None], made: AbstractSet[str]) -> None:
    for target in step.inputs:
        stamp = inputs[target.name]
        if (stamp is None or stamp.empty) and not target.optional and target.name not in made:
            raise UsageError(f"missing input: {_show(step, target.name)}",
                             hint=f"needed by step {step.label()} at {step.loc}")


def _by_timestamp(step: Step, present: dict[str, Stamp], outputs: dict[str, Stamp]) -> Reason:
    newest_in = max(present, key=lambda n: present[n].mtime) if len(present) > 1 else next(iter(present))
    oldest_out = min(outputs, key=lambda n: outputs[n].mtime) if len(outputs) > 1 else next(iter(outputs))
    t_in, t_out = present[newest_in].mtime, outputs[oldest_out].mtime
    label = "timestamped" if t_in > t_out else UP_TO_DATE
    return Reason(label, _timestamp_text, step, newest_in, t_in, oldest_out, t_out)


def _timestamp_text(step: Step, newest_in: str, t_in: float, oldest_out: str, t_out: float) -> str:
    return (f"newest input {_show(step, newest_in)} ({_when(t_in)}) "
            f"{'>' if t_in > t_out else '<='} oldest output {_show(step, oldest_out)} ({_when(t_out)})")


def _by_content(step: Step, present: dict[str, Stamp], facts: Facts) -> Reason | None:
    """`content changed` against the fingerprints of the last success; None to fall back to timestamps."""
    recorded = facts.record.inputs if facts.record is not None else {}
    if any(recorded.get(n, _STAMP_PREFIX).startswith(_STAMP_PREFIX) for n in present):
        return None
    for name, stamp in present.items():
        now = fingerprint(name, stamp, facts.hashes, facts.storage)
        if now != recorded[name]:
            return Reason("content changed", f"{_show(step, name)}: recorded {recorded[name][:12]}, now {now[:12]}")
    return Reason(UP_TO_DATE, "inputs have the content recorded at the last success")


def _by_command(step: Step, record) -> Reason | None:
    if record is None:
        return None
    now = command_hash(step)
    if record.command_hash == now:
        return None
    what = "body, options or the files of its pattern" if step.merged_inputs else "body or options"
    return Reason("command changed",
                  f"{what} differ from the last success (recorded {record.command_hash[:12]}, now {now[:12]})")


def command_hash(step: Step) -> str:
    """A digest of what the step runs: protocol, body (real names) and options as given."""
    given = step.options.given
    options = tuple(sorted((k, str(v)) for k, v in given.items())) if given else ()
    if step.merged_inputs:  # a file added to or gone from the pattern reruns the merge
        options += (("inputs", "\n".join(t.name for t in step.inputs)),)
    return _digest(step.protocol, step.body, options)


@functools.lru_cache(maxsize=4096)
def _digest(protocol: str, body: str, options: tuple[tuple[str, str], ...]) -> str:
    # Memoised: generated workflows repeat a few bodies over thousands of steps.
    payload = json.dumps([protocol, body, [list(pair) for pair in options]])
    return hashlib.sha256(payload.encode()).hexdigest()


def recorded_inputs(step: Step, check: str, hashes: HashCache | None = None,
                    storage: Storage | None = None) -> dict[str, str]:
    """What to record for the inputs at a success: fingerprints in hash mode, else stamps."""
    storage = storage if storage is not None else Storage()
    values = {}
    for target in step.inputs:
        stamp = storage.stat(target.name)
        if stamp is not None:
            hashed = (step.options.check or check) == "hash"
            values[target.name] = fingerprint(target.name, stamp, hashes, storage) if hashed else stamp_text(stamp)
    return values


def stamp_text(stamp: Stamp) -> str:
    return f"{_STAMP_PREFIX}{stamp.mtime:.6f}:{stamp.size}"


def _show(step: Step, name: str) -> str:
    return relative_to(name, step.workdir)


def _when(mtime: float) -> str:
    return datetime.fromtimestamp(mtime).isoformat(sep=" ", timespec="milliseconds")

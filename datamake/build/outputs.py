"""After a step exits 0: how each output is taken, and what to say about the ones it did not make.

An atomic step's `$OUTPUT` names a temporary that is renamed onto the target. Real workflows also
write the target by its own name (`> top-5`, as Drake and make users do): a target that changed
while the step ran is taken as it is, not atomically, and the step says so once (in `--why` and
its log). A step that made none of its outputs is no failure, as in make and Drake, but gets a
warning, except in a scheduled interval, which is done only when its outputs exist. A step that
made some of its outputs and not others fails. Drake-compatible steps are not checked at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datamake.decide.staleness import recorded_inputs, stamp_text
from datamake.model import Step, is_url, relative_to
from datamake.store.stamps import Stamp, local_stat
from datamake.store.storage import Storage


@dataclass
class Taken:
    """What became of a step's outputs: an error fails the step; notes and warnings are told."""

    error: str | None = None
    notes: list[str] = field(default_factory=list)  # for --why and the step's log
    warnings: list[str] = field(default_factory=list)  # for everyone
    made: dict[str, Stamp] | None = None  # temporaries found -> their stamps (None: not looked for: a Drake step)


def stamps_before(step: Step) -> dict[str, Stamp | None]:
    """The local outputs as they are before an atomic step runs, to tell later whether it wrote them by name.

    Remote outputs are not asked (a request per output per run): they must go through `$OUTPUT`.
    """
    return {t.name: local_stat(t.name) for t in step.outputs if not is_url(t.name)}


def take(step: Step, temps: dict[str, str], before: dict[str, Stamp | None], *, scheduled: bool,
         storage: Storage) -> Taken:
    """Decide about each output after the step exited 0 (asking `storage`); publishing the temporaries is the caller's."""
    taken = Taken()
    if step.options.drake:
        return taken  # Drake checks nothing after a step
    by_name, missing = [], []
    taken.made = {}
    for target in step.outputs:
        tmp = temps.get(target.name)
        if tmp is not None and (stamp := storage.stat(tmp)) is not None:
            taken.made[tmp] = stamp
            continue
        if tmp is None:  # not atomic: the step writes the target itself
            if not storage.exists(target.name):
                missing.append(target.name)
        elif target.name in before and _written(target.name, before[target.name]):
            by_name.append(target.name)
        else:
            missing.append(target.name)
    if by_name:
        taken.notes.append(_by_name_note(step, by_name))
    if missing:
        _judge_missing(step, missing, scheduled, taken)
    return taken


def success_record(step: Step, temps: dict[str, str], made: dict[str, Stamp] | None, check: str, hashes,
                   storage: Storage) -> tuple[dict[str, str], dict[str, str]]:
    """What the success record will say of the inputs and of the local outputs about to be renamed into
    place, read before the renames: a rename keeps a file's stamp. Other outputs are stamped after."""
    kept = {name: stamp_text(made[tmp]) for name, tmp in temps.items()
            if made and tmp in made and not is_url(name)}
    return recorded_inputs(step, check, hashes, storage), kept


def placed_by_rename(step: Step, temps: dict[str, str],
                     made: dict[str, Stamp] | None) -> dict[str, tuple[int, int]] | None:
    """Each output's (inode, mtime_ns) once its temporary is renamed onto it, when every output is a local
    file made through its temporary (a rename keeps both); None otherwise."""
    placed = {}
    for target in step.outputs:
        stamp = made.get(temps.get(target.name, "")) if made else None
        if stamp is None or is_url(target.name) or stamp.is_dir or stamp.inode is None:
            return None
        placed[target.name] = (stamp.inode, stamp.mtime_ns)
    return placed or None


def _written(name: str, before: Stamp | None) -> bool:
    now = local_stat(name)  # only local outputs have a stamp from before
    return now is not None and now != before


def _names(step: Step, names: list[str]) -> str:
    return ", ".join(relative_to(name, step.workdir) for name in names)


def _by_name_note(step: Step, names: list[str]) -> str:
    return (f"{step.label()}: wrote {_names(step, names)} by name instead of through $OUTPUT: "
            "taken as it is, not atomically (a failed run may leave it half-written)")


def _judge_missing(step: Step, missing: list[str], scheduled: bool, taken: Taken) -> None:
    if len(missing) < len(step.outputs):
        taken.error = f"step did not create its output: {_names(step, missing)}"
    elif scheduled:
        taken.error = (f"step did not create its output: {_names(step, missing)} "
                       "(a scheduled interval is done only when its outputs exist)")
    else:
        taken.warnings.append(
            f"{step.label()}: the step succeeded but made none of its outputs ({_names(step, missing)}); "
            "as in make and Drake this is no failure, but it will run again next time "
            "(a step that makes no file can be written without outputs: `<- inputs`)")


def note_in_log(log_path: str, text: str) -> None:
    """Append datamake's own remark to the end of a step's log."""
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"datamake: note: {text}\n")
    except OSError:
        pass  # the log is a record, not a reason to fail the step

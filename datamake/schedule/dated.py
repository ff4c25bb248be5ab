"""Dated steps: which steps use interval variables, their targets per interval, and names back to intervals."""
from __future__ import annotations

import dataclasses
import os
import re
from typing import AbstractSet, Callable

from datamake.store.storage import storage_of
from datamake.schedule.intervals import EARLIER_VARS, INTERVAL_VARS
from datamake.model import Step, Workflow, relative_to

# Stand-ins bound to the interval variables to see a workflow's shape without a real interval.
SENTINELS = {name: f"DMK{name}X" for name in INTERVAL_VARS + EARLIER_VARS}
_SHAPES = {"DATE": r"\d{4}-\d{2}-\d{2}", "DATE_NODASH": r"\d{8}", "HOUR": r"\d{2}", "MINUTE": r"\d{2}",
           "INTERVAL_START": r"\d{4}-\d{2}-\d{2}T[0-9:.+-]+", "INTERVAL_END": r"\d{4}-\d{2}-\d{2}T[0-9:.+-]+"}


_INTERVAL_VARS = frozenset(INTERVAL_VARS + EARLIER_VARS)
_VARIABLE_OF = {sentinel: name for name, sentinel in SENTINELS.items()}
# Longest first, so no sentinel is taken for a shorter one it starts with.
_SENTINEL = re.compile("|".join(re.escape(s) for s in sorted(_VARIABLE_OF, key=len, reverse=True)))


def is_dated(step: Step) -> bool:
    return not _INTERVAL_VARS.isdisjoint(step.header_roots)


def dated_steps(workflow: Workflow) -> list[Step]:
    return [s for s in workflow.steps if is_dated(s)]


def step_name(step: Step, variables: dict[str, str]) -> str:
    """A name for the step that is the same in every interval: `raw/$[DATE].json`."""
    label = step.label()
    for name in sorted(variables, key=lambda n: -len(variables[n])):  # INTERVAL_START before DATE
        if variables[name]:
            label = label.replace(variables[name], f"$[{name}]")
    return label


def namer(shape: Workflow | None, variables: dict[str, str]) -> Callable[[Step], str]:
    """Stable step names for one interval's workflow: read from the shape (evaluated with SENTINELS) when
    there is one, since values alone can be ambiguous (HOUR and MINUTE are both `00` at midnight)."""
    def name(step: Step) -> str:
        if shape is not None and step.index < len(shape.steps):
            return step_name(shape.steps[step.index], SENTINELS)
        return step_name(step, variables)

    return name


def targets(workflow: Workflow, force: bool, skip: AbstractSet[int] = frozenset()) -> list[str]:
    """Target expressions for every dated step's outputs (with their dependencies), but the `skip` steps'."""
    mark = "+" if force else ""
    return [mark + t.name for s in dated_steps(workflow) if s.index not in skip for t in s.outputs]


def shared_targets(workflow: Workflow, force: bool, skip: AbstractSet[int] = frozenset()) -> list[str]:
    """Target expressions for the shared steps the dated ones depend on, without the dated ones."""
    return targets(workflow, force, skip) + ["-=" + t.name for s in dated_steps(workflow) for t in s.outputs]


def dated_only_targets(workflow: Workflow, force: bool, skip: AbstractSet[int] = frozenset()) -> list[str]:
    """Target expressions for the dated steps alone (their shared inputs already built)."""
    mark = "+=" if force else "="
    return [mark + t.name for s in dated_steps(workflow) if s.index not in skip for t in s.outputs]


def blocked_steps(workflow: Workflow, late: AbstractSet[str], held: AbstractSet[int] = frozenset()) -> set[int]:
    """Dated steps that cannot run for want of the `late` names or because they are `held`: those, and
    their dependants."""
    blocked: set[int] = set(held)
    missing = set(late) | {t.name for i in held for t in workflow.steps[i].outputs}
    changed = True
    while changed:
        changed = False
        for step in dated_steps(workflow):
            if step.index not in blocked and any(t.name in missing for t in step.inputs if not t.optional):
                blocked.add(step.index)
                missing.update(t.name for t in step.outputs)
                changed = True
    return blocked


def targets_exist(workflow: Workflow) -> bool:
    exists = storage_of(workflow).exists
    return all(exists(t.name) for s in dated_steps(workflow) for t in s.outputs)


def late_inputs(workflow: Workflow) -> dict[str, list[Step]]:
    """Required inputs of dated steps that no step makes and that are not there yet, with the steps needing them.

    These make an interval wait instead of failing: data dropped by someone else arrives late.
    A missing input of a shared step stays an error (`missing input`), as in a plain build.
    """
    made = {t.name for s in workflow.steps for t in s.outputs}
    storage = storage_of(workflow)
    late: dict[str, list[Step]] = {}
    seen: dict[str, bool] = {}
    for step in dated_steps(workflow):
        for target in step.inputs:
            if target.optional or target.name in made:
                continue
            if target.name not in seen:
                stamp = storage.stat(target.name)
                seen[target.name] = stamp is None or stamp.empty
            if seen[target.name]:
                late.setdefault(target.name, []).append(step)
    return late


def outputs_by_step(shape: Workflow, variables: dict[str, str],
                    stable: dict[int, str] | None = None) -> dict[str, list[str]] | None:
    """Each dated step's output names for one interval, from the SENTINELS shape without re-evaluating.

    None when some dated output does not carry a sentinel verbatim (e.g. made by `$(cmd $[DATE])`):
    then only evaluating the workflow for that interval tells its names. `stable`: the shape's step
    names (`stable_names`), the same for every interval, so computed once for many.
    """
    stable = stable if stable is not None else stable_names(shape)
    out: dict[str, list[str]] = {}
    for step in dated_steps(shape):
        names = []
        for target in step.outputs:
            if _SENTINEL.search(target.name) is None:
                return None
            names.append(fill(target.name, variables))
        out[stable[step.index]] = names
    return out


def stable_names(shape: Workflow) -> dict[int, str]:
    """The stable name of each dated step of a SENTINELS shape, by index."""
    return {step.index: step_name(step, SENTINELS) for step in dated_steps(shape)}


def missing_steps(shape: Workflow, variables: dict[str, str]) -> set[str] | None:
    """The dated steps (by stable name) with an output missing for this interval: one stat per output."""
    outputs = outputs_by_step(shape, variables)
    if outputs is None:
        return None
    exists = storage_of(shape).exists
    return {name for name, paths in outputs.items() if not all(exists(p) for p in paths)}


def missing_many(shape: Workflow, variables: list[dict[str, str]]) -> list[set[str]] | None:
    """missing_steps for many intervals at once: remote outputs sharing a prefix come from one listing."""
    stable = stable_names(shape)
    outputs = [outputs_by_step(shape, v, stable) for v in variables]
    if any(o is None for o in outputs):
        return None
    stamps = storage_of(shape).stat_many(p for o in outputs for paths in o.values() for p in paths)
    return [{name for name, paths in o.items() if not all(_present(stamps[p]) for p in paths)} for o in outputs]


def _present(stamp) -> bool:
    return stamp is not None and not stamp.empty


def fill(name: str, variables: dict[str, str]) -> str:
    """`name` with each sentinel replaced by that variable's value (one pass: a year of intervals
    fills thousands of names, and there are over a hundred sentinels)."""
    return _SENTINEL.sub(lambda m: variables[_VARIABLE_OF[m.group()]], name)


def adapt(workflow: Workflow, succeeded: set[str], name: Callable[[Step], str]) -> Workflow:
    """The workflow as the runner builds it for one interval.

    Retries are the runner's job (per interval, without blocking others), so steps get none.
    A dated step with no file inputs whose outputs exist and which succeeded for this interval
    before is up to date (-timecheck): past intervals are never re-downloaded.
    """
    steps = []
    exists = storage_of(workflow).exists
    for step in workflow.steps:
        options = dataclasses.replace(step.options, retries=0) if step.options.retries else step.options
        if (is_dated(step) and not step.inputs and step.outputs and name(step) in succeeded
                and all(exists(t.name) for t in step.outputs)):
            options = dataclasses.replace(options, timecheck=False)
        steps.append(step if options is step.options else dataclasses.replace(step, options=options))
    return dataclasses.replace(workflow, steps=tuple(steps))


def name_matcher(shape: Workflow) -> Callable[[str], dict[str, str] | None]:
    """From a workflow evaluated with SENTINELS: a function from a target name to the interval values it names."""
    patterns = [_pattern(name) for s in dated_steps(shape) for t in s.outputs
                for name in {t.name, t.written, relative_to(t.name, shape.directory)}]

    def match(target: str) -> dict[str, str] | None:
        candidates = {target, os.path.normpath(os.path.join(shape.directory, target)),
                      os.path.normpath(os.path.abspath(target))}
        for pattern in patterns:
            for candidate in candidates:
                found = pattern.fullmatch(candidate)
                if found:
                    return found.groupdict()
        return None

    return match


def _pattern(name: str) -> re.Pattern:
    seen: set[str] = set()
    parts = re.split("(" + "|".join(SENTINELS[n] for n in INTERVAL_VARS) + ")", name)
    out = []
    for part in parts:
        var = next((n for n in INTERVAL_VARS if SENTINELS[n] == part), None)
        if var is None:
            out.append(_earlier_as_any(part))
        else:
            out.append(f"(?P={var})" if var in seen else f"(?P<{var}>{_SHAPES[var]})")
            seen.add(var)
    return re.compile("".join(out))


def _earlier_as_any(text: str) -> str:
    """A name part, with earlier intervals' stand-ins matching any value (the interval's own values decide)."""
    pieces = re.split("(" + "|".join(re.escape(SENTINELS[n]) for n in EARLIER_VARS) + ")", text)
    return "".join(".+?" if piece in _EARLIER_SENTINELS else re.escape(piece) for piece in pieces)


_EARLIER_SENTINELS = frozenset(SENTINELS[n] for n in EARLIER_VARS)


def instant_of(values: dict[str, str]) -> str:
    """The ISO time (date, or date and hour) a matched name points at."""
    if values.get("INTERVAL_START"):
        return values["INTERVAL_START"]
    day = values.get("DATE") or _dashed(values.get("DATE_NODASH", ""))
    if not values.get("HOUR"):
        return day
    return f"{day}T{values['HOUR']}:{values.get('MINUTE') or '00'}"


def _dashed(nodash: str) -> str:
    return f"{nodash[:4]}-{nodash[4:6]}-{nodash[6:]}" if nodash else ""


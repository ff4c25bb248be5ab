"""A dated workflow evaluated once with stand-ins, then turned into each interval's workflow by substitution.

Evaluating the workflow again for every interval of a long catch-up costs far more than the
steps' planning. Substitution is only trusted when it is exact: the workflow is evaluated with
two different sets of stand-ins, and filling the first with the second's values must give the
second's evaluation, field for field. A workflow that transforms an interval value (a `$(cmd)`
cutting a date apart, an option parsed from it) fails that test and is evaluated per interval.
"""
from __future__ import annotations

import dataclasses
import os
import re
from types import MappingProxyType
from typing import Callable, Mapping

from datamake.schedule.dated import SENTINELS
from datamake.model import Options, Step, StepVar, Target, Workflow

# A second set of stand-ins: other letters and other lengths, so a value computed from a
# stand-in's text (its length, a slice of it) cannot agree by chance with the first set's.
_OTHERS = {name: f"qzw{name.lower()}{'v' * (i + 2)}" for i, name in enumerate(SENTINELS)}

# What every stand-in starts with: most texts are passed over after one search for it.
_MARK = os.path.commonprefix(list(SENTINELS.values()))
# Every stand-in, longest first, so one pass replaces them all (there are some 160 with earlier intervals').
_ANY_STAND_IN = re.compile("|".join(re.escape(s) for s in sorted(SENTINELS.values(), key=len, reverse=True)))


class DatedTemplate:
    """Each interval's Workflow from one evaluation; steps that do not mention an interval are shared."""

    def __init__(self, shape: Workflow):
        self.shape = shape
        self._stand_ins = tuple(SENTINELS.items())
        # Steps whose names, body or options mention an interval; the others differ only in their variables.
        self._mentions = [_MARK in repr((s.outputs, s.inputs, s.output_tags, s.input_tags, s.options,
                                         s.body_parts, s.workdir)) for s in shape.steps]

    @classmethod
    def of(cls, shape: Workflow, evaluate: Callable[[dict[str, str]], Workflow | None]) -> "DatedTemplate | None":
        """The template of `shape` (evaluated with SENTINELS), or None when substitution would not be exact.

        `evaluate` gives the workflow for other interval variables (None if it cannot be evaluated).
        """
        if any(_MARK in command for command in shape.commands):
            return None  # a $(command) saw an interval value: run it with real ones only, per interval
        other = evaluate(dict(_OTHERS))
        if other is None:
            return None
        template = cls(shape)
        return template if template.workflow(_OTHERS) == other else None

    def workflow(self, variables: Mapping[str, str]) -> Workflow:
        """The workflow as evaluating it with these interval variables would give it."""
        fill = _Filler([(stand_in, variables[name]) for name, stand_in in self._stand_ins])
        shape = self.shape
        steps = tuple(fill.step(s) if mentions else fill.step_vars(s)
                      for s, mentions in zip(shape.steps, self._mentions))
        return dataclasses.replace(shape, steps=steps,
                                   schedule=fill.mapping(shape.schedule) if shape.schedule else shape.schedule)


class _Filler:
    """Replaces every stand-in in strings, targets, options and variable maps; unchanged objects are reused."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.real = dict(pairs)
        self.maps: dict[int, Mapping[str, str]] = {}  # steps in one scope share one vars map
        self.opts: dict[int, Options] = {}

    def text(self, value: str) -> str:
        if _MARK not in value:
            return value
        return _ANY_STAND_IN.sub(lambda m: self.real[m.group()], value)

    def mapping(self, values: Mapping) -> Mapping:
        key = id(values)
        if key not in self.maps:
            self.maps[key] = MappingProxyType({k: self.text(v) if type(v) is str else v for k, v in values.items()})
        return self.maps[key]

    def target(self, target: Target) -> Target:
        name, written = self.text(target.name), self.text(target.written)
        if name is target.name and written is target.written:
            return target
        return Target(name, written, target.optional, target.loc)

    def options(self, options: Options) -> Options:
        key = id(options)  # steps without options of their own share one Options
        if key not in self.opts:
            self.opts[key] = self._options(options)
        return self.opts[key]

    def _options(self, options: Options) -> Options:
        changed = {f.name: self.text(v) for f in dataclasses.fields(Options)
                   if type(v := getattr(options, f.name)) is str and _MARK in v}
        if not changed and not options.given:
            return options
        return dataclasses.replace(options, **changed, given=self.mapping(options.given))

    def step_vars(self, step: Step) -> Step:
        return Step(step.index, step.outputs, step.inputs, step.output_tags, step.input_tags, step.options,
                    step.body_parts, self.mapping(step.vars), step.workdir, step.loc, step.header_roots, error=step.error)

    def step(self, step: Step) -> Step:
        text = self.text
        return Step(step.index, tuple(map(self.target, step.outputs)), tuple(map(self.target, step.inputs)),
                    tuple(map(text, step.output_tags)), tuple(map(text, step.input_tags)),
                    self.options(step.options),
                    tuple(p if type(p) is StepVar else text(p) for p in step.body_parts),
                    self.mapping(step.vars), text(step.workdir), step.loc, step.header_roots, error=step.error)

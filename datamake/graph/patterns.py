"""Pattern steps: `clean/{city}.csv <- raw/{city}.csv` stands for one step per value of `city`.

Values come from three places, and the expansion is the smallest set that satisfies them all:
- files: the first input that names every placeholder of the step is globbed (one listing per
  folder or prefix) unless another pattern step makes that name, in which case that step's
  values are taken instead (so a chain follows its sources, not stale files on disk);
- demand: a name that some step reads, or that a target on the command line asks for, and that
  matches an output pattern, adds its values (`datamake clean/lyon.csv` works without a file);
- a step whose outputs name no placeholder but whose inputs do (a merge) reads every expansion.
The disk is a parameter (`glob`), so this module reads nothing itself.
"""
from __future__ import annotations

import dataclasses
import os
import re
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

from datamake.errors import WorkflowError
from datamake.model import PLACEHOLDER, Step, Target, Workflow

DEFAULT_MATCH = "[^/]+"  # one path segment: `{city}` never swallows a folder
_MAX_ROUNDS = 50  # patterns that keep feeding each other new names are an error, not a hang

Glob = Callable[[str], Iterable[str]]


def has_patterns(workflow: Workflow) -> bool:
    """True when any step names a placeholder (cheap: a brace test before any regex)."""
    return any("{" in t.name for s in workflow.steps for t in s.outputs + s.inputs) and any(
        _is_pattern(s) or _is_merge(s) for s in workflow.steps)


def placeholders(name: str) -> list[str]:
    """The placeholder names in a file name, in order."""
    return PLACEHOLDER.findall(name)


def expand_patterns(workflow: Workflow, targets: Iterable[str], glob: Glob) -> Workflow:
    """The workflow with each pattern step replaced by its expansions (file order, renumbered)."""
    if not has_patterns(workflow):
        return workflow
    patterns = [_Pattern(s) for s in workflow.steps if _is_pattern(s)]
    wanted = _target_names(targets, workflow)
    _grow(patterns, [s for s in workflow.steps if not _is_pattern(s) and not _is_merge(s)], wanted, glob)
    steps: list[Step] = []
    by_step = {p.step.index: p for p in patterns}
    for step in workflow.steps:
        if step.index in by_step:
            steps.extend(by_step[step.index].expansions(len(steps)))
        elif _is_merge(step):
            steps.append(_merged(step, len(steps), patterns, glob))
        else:
            steps.append(dataclasses.replace(step, index=len(steps)))
    return dataclasses.replace(workflow, steps=tuple(steps))


def _is_pattern(step: Step) -> bool:
    return any(PLACEHOLDER.search(t.name) for t in step.outputs)


def _is_merge(step: Step) -> bool:
    return not _is_pattern(step) and any(PLACEHOLDER.search(t.name) for t in step.inputs)


class _Pattern:
    """One pattern step: its output and driving-input regexes and the values found so far."""

    def __init__(self, step: Step) -> None:
        self.step = step
        self.names = placeholders(step.outputs[0].name)
        constraints = _constraints(step)
        for target in step.outputs:
            if sorted(set(placeholders(target.name))) != sorted(set(self.names)):
                raise WorkflowError("every output of a pattern step must name the same placeholders "
                                    f"({_braced(self.names)}), or two expansions would make one file", target.loc)
        for target in step.inputs:
            extra = [n for n in placeholders(target.name) if n not in self.names]
            if extra:
                raise WorkflowError(f"placeholder {{{extra[0]}}} is in an input but in no output: each "
                                    "expansion must make its own files (a merge names none in its outputs)",
                                    target.loc)
        self.out_regexes = [_regex(t.name, constraints) for t in step.outputs]
        self.source = next((t for t in step.inputs if set(placeholders(t.name)) == set(self.names)), None)
        self.source_regex = _regex(self.source.name, constraints) if self.source else None
        self.values: dict[tuple[str, ...], None] = {}  # insertion-ordered set

    def add(self, match: re.Match) -> bool:
        value = tuple(match.group(n) for n in self.names)
        if value in self.values:
            return False
        self.values[value] = None
        return True

    def made_names(self) -> list[str]:
        return [_fill(t.name, dict(zip(self.names, v))) for v in self.values for t in self.step.outputs]

    def read_names(self) -> list[str]:
        return [_fill(t.name, dict(zip(self.names, v))) for v in self.values for t in self.step.inputs]

    def expansions(self, first_index: int) -> list[Step]:
        return [_expanded(self.step, first_index + i, dict(zip(self.names, v)))
                for i, v in enumerate(sorted(self.values))]


def _grow(patterns: list[_Pattern], plain: list[Step], wanted: list[str], glob: Glob) -> None:
    """Add values until nothing new: files and upstream patterns first, then demand from readers."""
    maker = {id(p): _maker_of(p.source, patterns) if p.source else None for p in patterns}
    for p in patterns:
        if p.source and maker[id(p)] is None:
            for name in glob(_glob_of(p.source.name)):
                m = p.source_regex.fullmatch(name)
                if m:
                    p.add(m)
    demand = wanted + [t.name for s in plain for t in s.inputs]
    for _ in range(_MAX_ROUNDS):
        changed = False
        for p in patterns:
            upstream = maker[id(p)]
            names = demand + [n for q in patterns for n in q.read_names()]
            if upstream is not None:
                names += upstream.made_names()
            for name in names:
                m = _first_match(p, name, upstream is not None)
                if m is not None and p.add(m):
                    changed = True
        if not changed:
            return
    raise WorkflowError("pattern steps keep making new names for each other; constrain a placeholder "
                        "with [match:\"NAME=REGEX\"]", patterns[0].step.loc)


def _first_match(p: _Pattern, name: str, from_upstream: bool) -> re.Match | None:
    for regex in p.out_regexes:
        m = regex.fullmatch(name)
        if m:
            return m
    return p.source_regex.fullmatch(name) if from_upstream and p.source_regex else None


def _maker_of(target: Target, patterns: list[_Pattern]) -> _Pattern | None:
    """The pattern step whose output has the same shape as this pattern name, if any."""
    shape = _shape(target.name)
    return next((p for p in patterns if any(_shape(t.name) == shape for t in p.step.outputs)), None)


def _merged(step: Step, index: int, patterns: list[_Pattern], glob: Glob) -> Step:
    """A merge step: each pattern input becomes every name that matches it."""
    inputs: list[Target] = []
    for target in step.inputs:
        if not PLACEHOLDER.search(target.name):
            inputs.append(target)
            continue
        names = _matching(target, patterns, glob)
        if not names and not target.optional:
            raise WorkflowError(f"pattern {target.written} matches no file and no step makes one", target.loc)
        inputs += [Target(n, n, target.optional, target.loc) for n in names]
    return dataclasses.replace(step, index=index, inputs=tuple(inputs), merged_inputs=True)


def _matching(target: Target, patterns: list[_Pattern], glob: Glob) -> list[str]:
    regex = _regex(target.name, {})
    maker = _maker_of(target, patterns)
    found = maker.made_names() if maker is not None else glob(_glob_of(target.name))
    return sorted({n for n in found if regex.fullmatch(n)})


def _expanded(step: Step, index: int, values: dict[str, str]) -> Step:
    def fill(targets: tuple[Target, ...]) -> tuple[Target, ...]:
        return tuple(Target(_fill(t.name, values), _fill(t.written, values), t.optional, t.loc) for t in targets)

    variables = MappingProxyType({**step.vars, **values})
    return dataclasses.replace(step, index=index, outputs=fill(step.outputs), inputs=fill(step.inputs),
                               vars=variables, wildcards=MappingProxyType(values))


def _constraints(step: Step) -> dict[str, str]:
    """`[match:"city=[a-z]+ year=[0-9]{4}"]`: what each placeholder may match."""
    text = step.options.match or ""
    found: dict[str, str] = {}
    for item in text.split():
        name, sep, regex = item.partition("=")
        if not sep or not PLACEHOLDER.fullmatch("{" + name + "}"):
            raise WorkflowError(f"match: expected NAME=REGEX, got {item!r}", step.loc)
        try:
            re.compile(regex)
        except re.error as exc:
            raise WorkflowError(f"match: {name}={regex} is not a regular expression: {exc}", step.loc) from None
        found[name] = regex
    return found


def _regex(name: str, constraints: Mapping[str, str]) -> re.Pattern:
    parts: list[str] = []
    seen: set[str] = set()
    pos = 0
    for m in PLACEHOLDER.finditer(name):
        parts.append(re.escape(name[pos:m.start()]))
        key = m.group(1)
        parts.append(f"(?P={key})" if key in seen else f"(?P<{key}>{constraints.get(key, DEFAULT_MATCH)})")
        seen.add(key)
        pos = m.end()
    parts.append(re.escape(name[pos:]))
    return re.compile("".join(parts))


def _glob_of(name: str) -> str:
    """The placeholders as `*`, the rest escaped so that `[` or `?` in a name stay literal."""
    parts = PLACEHOLDER.split(name)
    return "".join(_escape_glob(p) if i % 2 == 0 else "*" for i, p in enumerate(parts))


def _escape_glob(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _shape(name: str) -> str:
    return PLACEHOLDER.sub("{}", name)


def _fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _braced(names: list[str]) -> str:
    return ", ".join("{" + n + "}" for n in names)


def _target_names(targets: Iterable[str], workflow: Workflow) -> list[str]:
    """Command-line targets as the names steps know them: prefixes stripped, resolved like inputs."""
    names = []
    for text in targets:
        bare = text.lstrip("+-^=")
        if not bare or bare[0] in "%@" or bare.endswith("()") or bare == "...":
            continue
        names.append(bare if "://" in bare else os.path.normpath(os.path.join(workflow.directory, bare)))
    return names

"""Target expressions `[+|-][^|=]NAME`, left to right -> selected steps in dependency order."""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from datamake.errors import UsageError
from datamake.graph.step_graph import StepGraph, tag_key
from datamake.model import is_url, relative_to


@dataclass
class Selected:
    """One selected step with how it was chosen: `via` is "tag", "method" or None."""

    index: int
    forced: bool = False
    via: str | None = None


@dataclass(frozen=True)
class TargetExpr:
    """A parsed target expression: `+`/`-` action, `^`/`=`/"" expansion, NAME."""

    action: str  # "+", "-" or ""
    expand: str  # "^", "=" or ""
    name: str


def parse_target(text: str) -> TargetExpr:
    action = text[0] if text[:1] in ("+", "-") else ""
    rest = text[len(action):]
    expand = rest[0] if rest[:1] in ("^", "=") else ""
    name = rest[len(expand):]
    if not name:
        raise UsageError(f"empty target: {text!r}", hint="a target is [+|-][^|=]NAME")
    return TargetExpr(action, expand, name)


def select(sg: StepGraph, targets: Sequence[str] = (), *, allow_broken: bool = False) -> list[Selected]:
    """Apply target expressions left to right (none means `=...`); dependencies come first.

    Independent steps keep the order of the targets that chose them (as in Drake), then file
    order. Raises UsageError for unknown names and WorkflowError for a cycle or duplicate output
    that the selection reaches, or for a selected step whose options or body are wrong (unless
    `allow_broken`, for views that list every step).
    """
    chosen: dict[int, Selected] = {}
    rank: dict[int, int] = {}  # step -> the first target expression that chose it
    for number, text in enumerate(targets or ("=...",)):
        expr = parse_target(text)
        roots, via = _readers(sg, expr.name) if expr.expand == "^" else None, None
        if not roots:
            roots, via = resolve(sg, expr.name)
        if expr.expand == "=":
            expansion = set(roots)
        elif expr.expand == "^":
            expansion = sg.descendants(roots)
        else:
            expansion = sg.ancestors(roots)
        if expr.action == "-":
            for n in expansion:
                chosen.pop(n, None)
            continue
        for n in expansion:
            entry = chosen.setdefault(n, Selected(n))
            rank.setdefault(n, number)
            entry.forced = entry.forced or expr.action == "+"
            if via and n in roots and entry.via is None:
                entry.via = via
    order = sg.order(chosen, rank if len(targets) > 1 else None)
    if not allow_broken:
        _no_broken_step(sg, order)
    return [chosen[n] for n in order]


def _no_broken_step(sg: StepGraph, order: list[int]) -> None:
    for n in order:
        if sg.step(n).error is not None:
            raise sg.step(n).error


def resolve(sg: StepGraph, name: str) -> tuple[set[int], str | None]:
    """The steps NAME names, and "tag"/"method" when chosen that way."""
    steps = sg.workflow.steps
    if name == "...":
        return set(range(len(steps))), None
    if name == "%...":
        return {s.index for s in steps if s.output_tags}, "tag"
    if name == "...()":
        return {s.index for s in steps if s.options.method}, "method"
    if name.startswith("%@"):  # tags by regex
        pattern = _regex(name, name[2:])
        found = {s.index for s in steps if any(pattern.search(tag) for tag in s.output_tags)}
        return found or _not_found(sg, name), "tag"
    if name.startswith("@") and name.endswith("()"):  # methods by regex
        pattern = _regex(name, name[1:-2])
        found = {s.index for s in steps if s.options.method and pattern.search(s.options.method)}
        return found or _not_found(sg, name), "method"
    if name.startswith("%"):
        return set(sg.tag_producers.get(tag_key(name), ())) or _not_found(sg, name), "tag"
    if name.endswith("()"):
        found = {s.index for s in steps if s.options.method == name[:-2]}
        return found or _not_found(sg, name), "method"
    if name.startswith("@"):
        return _by_regex(sg, name), None
    for key in _candidate_keys(sg, name):
        if key in sg.producers:
            return set(sg.producers[key]), None
    return _not_found(sg, name), None


def _readers(sg: StepGraph, name: str) -> set[int] | None:
    """`^raw/a.csv` on a file no step makes: the steps that read it (the roots of what follows from it)."""
    if name[:1] in "%@" or name.endswith("()") or name == "...":
        return None
    keys = set(_candidate_keys(sg, name))
    if any(key in sg.producers for key in keys):
        return None
    return {s.index for s in sg.workflow.steps if any(t.name in keys for t in s.inputs)} or None


def _regex(name: str, text: str) -> re.Pattern:
    try:
        return re.compile(text)
    except re.error as err:
        raise UsageError(f"bad regular expression in target {name}: {err}") from None


def _by_regex(sg: StepGraph, name: str) -> set[int]:
    pattern = _regex(name, name[1:])
    directory = sg.workflow.directory
    found = {
        s.index
        for s in sg.workflow.steps
        for t in s.outputs
        if pattern.search(relative_to(t.name, directory)) or pattern.search(t.written)
    }
    return found or _not_found(sg, name)


def _candidate_keys(sg: StepGraph, name: str) -> Iterator[str]:
    """NAME as is, normalised against the workflow dir, BASE and the current dir, then as written."""
    if name.startswith("file:"):
        name = name[len("file:"):]
    yield name
    if is_url(name):
        return
    bases = [sg.workflow.directory, os.getcwd()]
    bases += [s.vars["BASE"] for s in sg.workflow.steps[:1] if s.vars.get("BASE")]
    for base in bases:
        yield os.path.normpath(os.path.join(base, name))
    yield from (t.name for s in sg.workflow.steps for t in s.outputs if t.written == name)


def _not_found(sg: StepGraph, name: str):
    directory = sg.workflow.directory
    known = [relative_to(t.name, directory) for s in sg.workflow.steps for t in s.outputs]
    known += ["%" + tag for tag in sg.tag_producers]
    known += sorted({s.options.method + "()" for s in sg.workflow.steps if s.options.method})
    close = difflib.get_close_matches(name, known, n=1)
    raise UsageError(f"target not found: {name}", hint=f"did you mean {close[0]}?" if close else None)

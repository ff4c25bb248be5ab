"""Step and method options: written `[...]` items -> checked values -> model.Options."""
from __future__ import annotations

import dataclasses
import re
from types import MappingProxyType
from typing import Callable

from datamake.errors import SourceLocation, WorkflowError
from datamake.language.expand import at, did_you_mean
from datamake.model import CHECK_MODES, KNOWN_OPTIONS, METHOD_MODES, PROTOCOLS, OptionValue, Options, Workflow

_OPTION = re.compile(r"([+-])?([A-Za-z_][A-Za-z0-9_-]*)(?::(.*))?\Z", re.S)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)?\Z")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")

_DEFAULTS = Options()
# Given options with the location each was written at, in writing order.
Given = dict[str, tuple[OptionValue, SourceLocation]]


def parse_options(texts, expand: Callable[[str, SourceLocation], str]) -> Given:
    """`python`, `+flag`, `-flag`, `key:value` -> {key: (value, loc)}; later items win."""
    given: Given = {}
    for text in texts:
        m = _OPTION.match(text.value)
        sign, key, raw = m.groups()
        if raw is None and not sign:
            given["protocol"] = (_protocol(key, text.loc), text.loc)
            continue
        kind = KNOWN_OPTIONS.get(key)
        if kind is None:
            raise WorkflowError(f"unknown option: {key}{did_you_mean(key, KNOWN_OPTIONS)}", text.loc)
        if sign and raw is not None:  # `-atomic:yes` says two things; neither wins silently
            raise WorkflowError(f"option {key}: write {sign}{key} or {key}:VALUE, not both", text.loc)
        if raw is None:
            if kind != "flag":
                raise WorkflowError(f"option {key} takes a value: write {key}:VALUE", text.loc)
            given[key] = (sign == "+", text.loc)
        else:
            value = expand(raw, at(text.loc, m.start(3)))
            given[key] = (_typed(key, kind, value, text.loc), text.loc)
    return given


def _protocol(name: str, loc: SourceLocation) -> str:
    if name in PROTOCOLS:
        return name
    if KNOWN_OPTIONS.get(name) == "flag":
        raise WorkflowError(f"unknown protocol: {name} (to set the {name} flag write +{name})", loc)
    if name in KNOWN_OPTIONS:
        raise WorkflowError(f"option {name} takes a value: write {name}:VALUE", loc)
    raise WorkflowError(f"unknown protocol: {name}{did_you_mean(name, PROTOCOLS)}", loc)


def _typed(key: str, kind: str, value: str, loc: SourceLocation) -> OptionValue:
    """Check one key:value option and convert it; durations stay as written (converted later)."""
    if kind == "flag":
        if value.lower() in _TRUE + _FALSE:
            return value.lower() in _TRUE
        raise WorkflowError(f"option {key} is a flag: write +{key} or -{key}", loc)
    if kind == "int":
        if not re.fullmatch(r"\d+", value):
            raise WorkflowError(f"option {key} needs a whole number, not {value!r}", loc)
        return int(value)
    if kind == "duration":
        duration_seconds(value, key, loc)
        return value
    choices = {"protocol": PROTOCOLS, "method-mode": METHOD_MODES, "check": CHECK_MODES}.get(key)
    if key == "protocol":
        return _protocol(value, loc)
    if choices and value not in choices:
        raise WorkflowError(f"invalid {key}: {value} (choose {', '.join(choices)})", loc)
    return value


def duration_seconds(value: str, key: str, loc: SourceLocation | None) -> float:
    """`90s`, `5m`, `2h`, `1d` or plain seconds -> seconds."""
    m = _DURATION.match(value.strip())
    if not m:
        raise WorkflowError(f"option {key} needs a duration like 90s, 5m, 2h or 1d, not {value!r}", loc)
    return float(m.group(1)) * _UNITS[m.group(2)]


def build_options(given: Given) -> Options:
    """The typed Options of a step from its merged, checked options."""
    if not given:
        return _DEFAULTS  # most steps: one shared object
    values = {key: value for key, (value, _) in given.items()}
    fields = {key.replace("-", "_"): value for key, value in values.items()}
    for key in ("retry_delay", "retry_max_delay", "timeout", "sla", "wait", "poke"):
        if key in fields:
            fields[key] = duration_seconds(str(fields[key]), key.replace("_", "-"), None)
    return Options(**fields, given=MappingProxyType(values))


def drake_by_default(workflow: Workflow) -> Workflow:
    """`--drake`: every step gets Drake's semantics unless it says `[-drake]` itself.

    Not part of the options as given, so switching the mode on or off does not make every step's
    command look changed.
    """
    changed: dict[int, Options] = {}  # steps without options of their own share one Options

    def drake(options: Options) -> Options:
        if "drake" in options.given:
            return options
        if id(options) not in changed:
            changed[id(options)] = dataclasses.replace(options, drake=True)
        return changed[id(options)]

    steps = tuple(dataclasses.replace(step, options=drake(step.options)) for step in workflow.steps)
    return dataclasses.replace(workflow, steps=steps)

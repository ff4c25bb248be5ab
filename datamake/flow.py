"""Workflows written in Python: steps with shell bodies or Python callables, built like written ones.

    flow = datamake.Flow("pipeline")
    flow.step("clean/{city}.csv", "raw/{city}.csv", run="tail -n +2 $INPUT > $OUTPUT")

    @flow.step("all.csv", "clean/{city}.csv", retries=2)
    def merge(step):                        # runs in a child process, like every step
        with open(step.output, "w") as out:
            for name in step.inputs:
                out.write(open(name).read())

    datamake.run(flow, jobs=2)

A callable is found again in the child by its module and qualified name (as multiprocessing's
`spawn` does): define it at module level; a script's own functions are loaded from its file
under another name, so its `if __name__ == "__main__":` block does not run twice.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import json
import os
import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

from datamake.errors import SourceLocation, UsageError, WorkflowError
from datamake.language.evaluate import resolve_name
from datamake.language.options import build_options, parse_options
from datamake.language.syntax import Text
from datamake.model import PROTOCOLS, Step, Target, Workflow

@dataclass(frozen=True)
class StepContext:
    """What a Python callable step receives: its files (temporary names for atomic outputs) and variables."""

    inputs: list[str]
    outputs: list[str]
    vars: Mapping[str, str] = field(default_factory=dict)

    @property
    def input(self) -> str:
        return self.inputs[0] if self.inputs else ""

    @property
    def output(self) -> str:
        return self.outputs[0] if self.outputs else ""


@dataclass(frozen=True)
class _Written:
    outputs: tuple[str, ...]
    inputs: tuple[str, ...]
    body: str | Callable
    protocol: str | None
    options: Mapping[str, object]
    loc: SourceLocation


class Flow:
    """A workflow built in Python; `datamake.run`, `datamake.graph` and the CLI take it like a file's."""

    def __init__(self, directory: str | os.PathLike = ".", *, variables: Mapping[str, object] | None = None,
                 schedule: str | None = None, **schedule_fields: str) -> None:
        self.directory = os.path.abspath(os.fspath(directory))
        self.variables = {k: str(v) for k, v in (variables or {}).items()}
        self.schedule = {"spec": schedule, **schedule_fields} if schedule else None
        self._written: list[_Written] = []

    def step(self, outputs: str | Iterable[str], inputs: str | Iterable[str] = (), run: str | Callable | None = None,
             *, protocol: str | None = None, **options: object):
        """Add a step; `run` is a command (shell unless `protocol=`) or a callable taking a StepContext.

        Options are the workflow language's, with `_` for `-`: `retries=2, timeout="5m", atomic=False`,
        `tags=["nightly"]`. Without `run`, returns a decorator for a callable.
        """
        loc = _caller()
        if run is None:
            def decorate(function: Callable) -> Callable:
                self._add(outputs, inputs, function, protocol, options, loc)
                return function
            return decorate
        self._add(outputs, inputs, run, protocol, options, loc)
        return self

    def _add(self, outputs, inputs, body, protocol, options, loc: SourceLocation) -> None:
        if not (isinstance(body, str) or callable(body)):
            raise UsageError(f"{loc}: run= takes a command or a callable, not {type(body).__name__}")
        if protocol is not None and protocol not in PROTOCOLS:
            raise UsageError(f"{loc}: unknown protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
        self._written.append(_Written(_names(outputs), _names(inputs), body, protocol, dict(options), loc))

    def workflow(self) -> Workflow:
        """The steps as a Workflow, in the order they were added (pattern steps not yet expanded)."""
        steps = tuple(_step(i, w, self) for i, w in enumerate(self._written))
        path = os.path.join(self.directory, "<python>")
        return Workflow(path=path, directory=self.directory, steps=steps, schedule=self.schedule)


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _caller() -> SourceLocation:
    """Where the user's code called Flow.step: the location every error about the step names."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return SourceLocation("<python>", 1, 1)
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno, 1)


def _step(index: int, written: _Written, flow: Flow) -> Step:
    options = dict(written.options)
    tags = tuple(_names(options.pop("tags", ())))
    texts = [Text(_option_text(k, v), written.loc.path, written.loc.line, written.loc.col) for k, v in options.items()]
    given = parse_options(texts, lambda raw, loc: raw)
    if callable(written.body):
        given["protocol"] = ("python", written.loc)
        body: tuple = (_callable_body(written.body, written.loc),)
    else:
        if written.protocol:
            given["protocol"] = (written.protocol, written.loc)
        body = (written.body,)
    variables = {"BASE": flow.directory, **flow.variables}
    if callable(written.body):
        variables["DATAMAKE_PYTHON"] = sys.executable  # the interpreter that can import the callable
    targets = [_target(n, written, flow) for n in written.outputs + written.inputs]
    return Step(index, tuple(targets[:len(written.outputs)]), tuple(targets[len(written.outputs):]), tags, (),
                build_options(given), body, MappingProxyType(variables), flow.directory, written.loc)


def _target(name: str, written: _Written, flow: Flow) -> Target:
    if not name:
        raise WorkflowError("empty file name", written.loc)
    optional = name.startswith("?")
    bare = name[1:] if optional else name
    return Target(resolve_name(bare, flow.directory, flow.directory), bare, optional, written.loc)


def _option_text(key: str, value: object) -> str:
    name = key.replace("_", "-")
    if isinstance(value, bool):
        return ("+" if value else "-") + name
    return f"{name}:{value}"


def _callable_body(function: Callable, loc: SourceLocation) -> str:
    """A Python script that finds the callable again in the child and calls it with a StepContext."""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if not module or "<locals>" in qualname or "<lambda>" in qualname:
        raise WorkflowError("a step's callable must be a module-level function (the step runs in a child "
                            "process, which finds it by module and name)", loc)
    source = None
    if module == "__main__":
        source = os.path.abspath(getattr(sys.modules["__main__"], "__file__", "") or "")
        if not source:
            raise WorkflowError("a step's callable defined in an interactive session cannot be found by the "
                                "child process: define it in a module or a script file", loc)
    spec = json.dumps({"module": module, "qualname": qualname, "source": source})
    # The names come from the step's environment (INPUT0.., OUTPUT0..: temporaries for atomic
    # outputs), so a merge's expanded inputs and the builder's temporaries need no quoting here.
    return f"import json, sys\nsys.path[:0] = json.loads({json.dumps(sys.path[:])!r})\n" \
           f"from datamake.flow import call_in_child\ncall_in_child(json.loads({spec!r}))\n"


def call_in_child(spec: dict) -> None:
    """The child's side: import the callable's module (a script by its file) and call it."""
    if spec["source"]:
        loader = importlib.util.spec_from_file_location("__datamake_main__", spec["source"])
        module = importlib.util.module_from_spec(loader)
        sys.modules["__datamake_main__"] = module
        loader.loader.exec_module(module)
    else:
        module = importlib.import_module(spec["module"])
    target = module
    for part in spec["qualname"].split("."):
        target = getattr(target, part)
    env = os.environ
    inputs = [env[f"INPUT{i}"] for i in range(int(env.get("INPUTN", "0")))]
    outputs = [env[f"OUTPUT{i}"] for i in range(int(env.get("OUTPUTN", "0")))]
    target(StepContext(inputs, outputs, dict(env)))


def with_python_steps(workflow: Workflow) -> Workflow:
    """A workflow file's `%python steps.py` modules imported and their steps added after its own.

    Each module defines `steps(flow)`; the Flow it gets has the workflow's directory and variables.
    """
    if not workflow.python_modules:
        return workflow
    steps = list(workflow.steps)
    variables = next((dict(s.vars) for s in workflow.steps), {})
    for path, loc in workflow.python_modules:
        flow = Flow(workflow.directory, variables={k: v for k, v in variables.items() if k != "BASE"})
        add_steps = getattr(_import_file(path, loc), "steps", None)
        if not callable(add_steps):
            raise WorkflowError(f"{os.path.basename(path)} defines no steps(flow) function", loc)
        add_steps(flow)
        steps += [dataclasses.replace(s, index=len(steps) + i) for i, s in enumerate(flow.workflow().steps)]
    return dataclasses.replace(workflow, steps=tuple(steps))


def _import_file(path: str, loc: SourceLocation):
    """Import a module by its file, under its own name, so its callables are found again in the child."""
    name = os.path.splitext(os.path.basename(path))[0]
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        return importlib.import_module(name)
    except Exception as exc:  # the user's module: its error is theirs, said in one line with where
        raise WorkflowError(f"cannot import {os.path.basename(path)}: {type(exc).__name__}: {exc}", loc) from None

"""Expansion of written text: $[VAR], $(command), quotes and escapes, with taint tracking."""
from __future__ import annotations

import difflib
import hashlib
import os
import re
import subprocess
import threading
from types import MappingProxyType
from typing import Mapping

from datamake.errors import SourceLocation, WorkflowError

_CMD = r"""\$\(((?:[^()'"\n]|'[^'\n]*'|"(?:[^"\\\n]|\\.)*"|\([^()\n]*\))*)\)"""
# Parts of a name or value: $[VAR] | $(cmd) | 'single' | "double" | \x
_PART = re.compile(r"""\$\[([A-Za-z0-9_-]+)\]|""" + _CMD + r"""|'([^'\n]*)'|"((?:[^"\\\n]|\\.)*)"|\\(.)""")
# Parts inside double quotes: \x | $[VAR] | $(cmd)
_DQ_PART = re.compile(r"""\\(.)|\$\[([A-Za-z0-9_-]+)\]|""" + _CMD)
_VAR_REF = re.compile(r"\$\[([A-Za-z0-9_-]+)\]")
_ESCAPES = {"n": "\n", "t": "\t"}
SPECIAL = frozenset("$'\"\\")  # characters that make a text need expanding
_NO_ROOTS: frozenset[str] = frozenset()
# The root a value gets when a $(command) in it was not run (--lint, completion): it is a stand-in.
NOT_RUN = "$(not run)"
NOT_RUN_PREFIX = "not-run-"  # what such a stand-in value starts with

# $(cmd) results per (command after substitution, directory, place in the file): each occurrence
# runs once per process (as in Drake since its issue 118), so re-evaluating never runs one twice.
_COMMANDS: dict[tuple[str, str, SourceLocation], str] = {}
_COMMANDS_LOCK = threading.Lock()


class Scope:
    """Variables in scope, each with the starting-scope names its value came from (its roots)."""

    __slots__ = ("values", "roots", "from_env", "methods", "run_commands", "commands", "_visible")

    def __init__(self, values: dict[str, str], roots: dict[str, frozenset[str]],
                 from_env: set[str], methods: dict, run_commands: bool = True, commands: list[str] | None = None):
        self.values, self.roots, self.from_env, self.methods = values, roots, from_env, methods
        self.run_commands = run_commands  # False: each $(command) is checked and stood in for, never run
        # Every $(command) this evaluation used (run or reused), shared by the copies a %call makes.
        self.commands: list[str] = [] if commands is None else commands
        self._visible: Mapping[str, str] | None = None

    def copy(self) -> "Scope":
        return Scope(dict(self.values), dict(self.roots), set(self.from_env), dict(self.methods), self.run_commands,
                     self.commands)

    def set(self, name: str, value: str, roots: frozenset[str]) -> None:
        self.values[name] = value
        self.roots[name] = roots
        self.from_env.discard(name)
        self._visible = None

    def visible(self) -> Mapping[str, str]:
        """Variables a step sees, minus those inherited untouched from the process environment."""
        if self._visible is None:
            self._visible = MappingProxyType(
                {k: v for k, v in self.values.items() if k not in self.from_env})
        return self._visible

    def lookup(self, name: str, loc: SourceLocation) -> str:
        try:
            return self.values[name]
        except KeyError:
            raise WorkflowError(f"undefined variable: {name}{did_you_mean(name, self.visible())}",
                                loc) from None


def did_you_mean(word: str, choices) -> str:
    """` (did you mean X?)` for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def at(loc: SourceLocation, offset: int) -> SourceLocation:
    """The location `offset` characters right of `loc` (tokens never span lines)."""
    return SourceLocation(loc.path, loc.line, loc.col + offset)


def expand(text: str, loc: SourceLocation, scope: Scope, cwd: str) -> tuple[str, frozenset[str]]:
    """Expand a name or value; returns the text and the roots of the variables it used."""
    if SPECIAL.isdisjoint(text):
        return text, _NO_ROOTS
    out: list[str] = []
    roots: set[str] = set()
    pos = 0
    for m in _PART.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        var, cmd, single, double, escaped = m.groups()
        if var is not None:
            out.append(scope.lookup(var, at(loc, m.start())))
            roots |= scope.roots.get(var, _NO_ROOTS)
        elif cmd is not None:
            out.append(run_command(cmd, at(loc, m.start()), scope, cwd, roots))
        elif single is not None:
            out.append(single)
        elif double is not None:
            out.append(_expand_double(double, at(loc, m.start(4)), scope, cwd, roots))
        else:
            out.append(_ESCAPES.get(escaped, escaped))
    out.append(text[pos:])
    return "".join(out), frozenset(roots)


def _expand_double(text: str, loc: SourceLocation, scope: Scope, cwd: str, roots: set[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _DQ_PART.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        escaped, var, cmd = m.groups()
        if escaped is not None:
            out.append(_ESCAPES.get(escaped, escaped))
        elif var is not None:
            out.append(scope.lookup(var, at(loc, m.start())))
            roots |= scope.roots.get(var, _NO_ROOTS)
        else:
            out.append(run_command(cmd, at(loc, m.start()), scope, cwd, roots))
    out.append(text[pos:])
    return "".join(out)


def substitute_vars(text: str, loc: SourceLocation, scope: Scope, roots: set[str]) -> str:
    """Replace $[VAR] outside single quotes (Drake's rule for the text of $(command))."""
    pieces = re.split(r"('[^']*')", text)
    offset = 2  # the command text starts after "$("
    out = []
    for piece in pieces:
        if piece.startswith("'"):
            out.append(piece)
        else:
            out.append(_VAR_REF.sub(lambda m: _var(m, at(loc, offset), scope, roots), piece))
        offset += len(piece)
    return "".join(out)


def _var(m: re.Match, loc: SourceLocation, scope: Scope, roots: set[str]) -> str:
    roots |= scope.roots.get(m.group(1), _NO_ROOTS)
    return scope.lookup(m.group(1), at(loc, m.start()))


def run_command(cmd: str, loc: SourceLocation, scope: Scope, cwd: str, roots: set[str]) -> str:
    """Run `$(cmd)` with bash in `cwd` once per process and place; stdout minus trailing newlines.

    When the scope says not to run commands, the variables in `cmd` are still checked and the
    result is a stand-in named after the command, rooted in NOT_RUN.
    """
    command = substitute_vars(cmd, loc, scope, roots)
    if not scope.run_commands:
        roots.add(NOT_RUN)
        digest = hashlib.sha1(f"{command}\0{cwd}".encode()).hexdigest()[:8]
        return f"{NOT_RUN_PREFIX}{digest}"
    key = (command, cwd, loc)
    scope.commands.append(command)
    with _COMMANDS_LOCK:
        if key in _COMMANDS:
            return _COMMANDS[key]
    env = dict(os.environ)
    env.update(scope.values)
    try:
        proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True)
    except OSError as exc:
        raise WorkflowError(f"$({command}) could not run: {exc.strerror}", loc) from None
    if proc.returncode != 0:
        stderr = " ".join(proc.stderr.decode("utf-8", errors="replace").split())
        detail = f": {stderr}" if stderr else ""
        raise WorkflowError(f"$({command}) failed with exit status {proc.returncode}{detail}", loc)
    try:
        result = proc.stdout.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError as exc:
        raise WorkflowError(f"$({command}) printed a byte that is not UTF-8 (0x{proc.stdout[exc.start]:02x}) "
                            f"at offset {exc.start}", loc) from None
    if "\0" in result:
        raise WorkflowError(f"$({command}) printed a NUL byte, which no name or value can hold", loc)
    with _COMMANDS_LOCK:
        _COMMANDS[key] = result
    return result

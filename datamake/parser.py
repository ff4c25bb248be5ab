"""Workflow text -> typed syntax items (lark LALR), cached per file; the load entry points."""
from __future__ import annotations

import functools
import gc
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, NamedTuple, Union

import lark

from .errors import SourceLocation, UsageError, WorkflowError, remember_source
from .syntax_errors import STRAY_BODY, body_loc, check_first_line, translate
from .model import Workflow


class Text(NamedTuple):
    """A raw token (name, value, option...) as written, with the position of its first character.

    A tuple rather than a dataclass, and the location built on demand: big files make one per name.
    """

    value: str
    path: str
    line: int
    col: int

    @property
    def loc(self) -> SourceLocation:
        return SourceLocation(self.path, self.line, self.col)


class BodyLine(NamedTuple):
    """One body line after dedent, with where its (dedented) text starts in the file."""

    text: str
    path: str
    line: int
    col: int

    @property
    def loc(self) -> SourceLocation:
        return SourceLocation(self.path, self.line, self.col)


@dataclass(frozen=True, slots=True)
class VarDef:
    name: str
    value: Text | None
    conditional: bool  # `:=`
    loc: SourceLocation


class StepDecl(NamedTuple):
    """A step as written; a tuple, made fast in bulk (by the parser or from the syntax cache)."""

    outputs: tuple[Text, ...]
    inputs: tuple[Text, ...]
    options: tuple[Text, ...]
    body: tuple[BodyLine, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class MethodDecl:
    name: str
    options: tuple[Text, ...]
    body: tuple[BodyLine, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Include:
    kind: str  # "include", "call" or "context"
    path: Text
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class ScheduleDecl:
    args: tuple[Text, ...]
    loc: SourceLocation


Item = Union[VarDef, StepDecl, MethodDecl, Include, ScheduleDecl]


@dataclass(frozen=True, slots=True)
class Syntax:
    """A parsed file: its items in order. Evaluation turns it into steps."""

    path: str
    items: tuple[Item, ...]


class _Build(lark.Transformer):
    """Runs inside the LALR parser (no tree is built): tokens -> syntax items."""

    def __init__(self) -> None:
        super().__init__()
        self.path = ""

    def loc(self, token: lark.Token) -> SourceLocation:
        return SourceLocation(self.path, token.line, token.column)

    def text(self, token: lark.Token) -> Text:
        return Text(str(token), self.path, token.line, token.column)

    def start(self, children):
        return children[0] if children else []

    def items(self, children):
        """Left-recursive list: the first child is the list so far, the last one the new item."""
        if len(children) == 1:
            return [children[0]]
        children[0].append(children[-1])
        return children[0]

    def outputs(self, children):
        if len(children) == 1:
            return [self.text(children[0])]
        children[0].append(self.text(children[-1]))
        return children[0]

    inputs = outputs

    def options(self, children):
        return tuple(self.text(t) for t in children if t.type == "OPTION")

    def vardef(self, children):
        head = children[0]
        self._no_body(children, "a variable definition")
        value = next((self.text(t) for t in children[1:] if t.type == "VALUE"), None)
        op = head.rstrip()
        return VarDef(op.rstrip(":=").rstrip(), value, op.endswith(":="), self.loc(head))

    def step(self, children):
        outputs: list[Text] = []
        inputs: list[Text] = []
        options: tuple[Text, ...] = ()
        bodies = []
        arrow = None
        for child in children:
            if isinstance(child, list):
                (inputs if arrow else outputs).extend(child)
            elif isinstance(child, tuple):
                options = child
            elif child.type == "ARROW":
                arrow = child
            else:
                bodies.append(child)
        first = outputs[0].loc if outputs else SourceLocation(
            self.path, arrow.line, arrow.column + arrow.index("<"))
        return StepDecl(tuple(outputs), tuple(inputs), options, self._body(bodies), first)

    def method(self, children):
        head = children[0]
        options = next((c for c in children[1:] if isinstance(c, tuple)), ())
        bodies = [c for c in children[1:] if isinstance(c, lark.Token)]
        return MethodDecl(head[:-2], options, self._body(bodies), self.loc(head))

    def include(self, children):
        head, path = children[0], children[1]
        self._no_body(children, str(head))
        return Include(head[1:], self.text(path), self.loc(head))

    def schedule(self, children):
        self._no_body(children, "%schedule")
        args = tuple(self.text(t) for t in children[1:])
        return ScheduleDecl(args, self.loc(children[0]))

    def stray(self, children):
        raise WorkflowError(STRAY_BODY, body_loc(children[0], self.path))

    def _no_body(self, children, what: str) -> None:
        for child in children:
            if isinstance(child, lark.Token) and child.type == "BODY":
                raise WorkflowError(f"indented line after {what}: only steps and methods have bodies",
                                    body_loc(child, self.path))

    def _body(self, tokens) -> tuple[BodyLine, ...]:
        """Body tokens -> lines with the first line's indentation removed from all."""
        if len(tokens) == 1 and tokens[0].count("\n") == 1:  # the common case, made fast
            raw = tokens[0][1:]
            text = raw.lstrip(" \t")
            cut = len(raw) - len(text)
            return (BodyLine(text, self.path, tokens[0].line + 1, cut + 1),)
        out: list[BodyLine] = []
        prefix = None
        for token in tokens:
            lines = token.split("\n")
            line_no = token.line + len(lines) - 1
            if out:  # blank lines inside a body survive; leading ones do not
                out.extend(BodyLine("", self.path, line_no - k, 1) for k in range(len(lines) - 2, 0, -1))
            raw = lines[-1]
            if prefix is None:
                prefix = raw[: len(raw) - len(raw.lstrip(" \t"))]
            cut = len(prefix) if raw.startswith(prefix) else len(raw) - len(raw.lstrip(" \t"))
            out.append(BodyLine(raw[cut:], self.path, line_no, cut + 1))
        return tuple(out)


_LOCK = threading.Lock()
_PARSER: lark.Lark | None = None
_BUILD = _Build()
_CACHE: dict[str, tuple[tuple[int, int], Syntax]] = {}


@functools.lru_cache(maxsize=1)
def grammar_text() -> str:
    """The grammar, from the installed package or else from the source checkout."""
    try:
        from importlib.resources import files

        return (files("datamake") / "grammar" / "workflow.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError):
        root = Path(__file__).resolve().parent.parent
        return (root / "grammar" / "workflow.lark").read_text(encoding="utf-8")


def _cache_file(grammar: str) -> str | bool:
    """Where lark keeps the analysed grammar between runs: saves ~0.1 s per command."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(root, "datamake")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False  # no cache: lark analyses the grammar each time
    digest = hashlib.sha256(f"{grammar}{lark.__version__}".encode()).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark")


def _parser() -> lark.Lark:
    global _PARSER
    if _PARSER is None:
        grammar = grammar_text()
        # lark checks the grammar's hash stored in the cache file, and rebuilds if it is unreadable.
        _PARSER = lark.Lark(grammar, parser="lalr", lexer="contextual", transformer=_BUILD,
                            maybe_placeholders=False, cache=_cache_file(grammar))
    return _PARSER


def parse_text(text: str, path: str) -> Syntax:
    """Parse workflow text into syntax items; errors are WorkflowErrors at their position."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    remember_source(path, text)
    check_first_line(text, path)
    if not text.endswith("\n"):
        text += "\n"
    with _LOCK:
        parser = _parser()
        _BUILD.path = path
        try:
            items = parser.parse(text)
        except lark.exceptions.VisitError as exc:
            if isinstance(exc.orig_exc, WorkflowError):
                raise exc.orig_exc from None
            raise
        except lark.exceptions.UnexpectedInput as exc:
            raise translate(exc, text, path) from None
    return Syntax(path, tuple(items))


def parse_file(path: str, loc: SourceLocation | None = None) -> Syntax:
    """Parse a file, reusing the result while its mtime and size are unchanged.

    Big files are also cached on disk between runs (see syntax_cache).
    """
    from . import syntax_cache  # it builds on this module's syntax types

    try:
        st = os.stat(path)
        key = (st.st_mtime_ns, st.st_size)
        cached = _CACHE.get(path)
        if cached and cached[0] == key:
            return cached[1]
        syntax = _parse_big(path, st) if st.st_size >= syntax_cache.MIN_SIZE else None
        if syntax is None:
            with open(path, encoding="utf-8", errors="replace") as handle:
                syntax = parse_text(handle.read(), path)
    except OSError as exc:
        raise WorkflowError(f"cannot read workflow {path}: {exc.strerror}", loc) from None
    _CACHE[path] = (key, syntax)
    return syntax


def _parse_big(path: str, st: os.stat_result) -> Syntax:
    """Parse through the on-disk cache: its entry when the key matches, else parse and store one."""
    from . import syntax_cache

    entry = syntax_cache.key(os.path.abspath(path), st, grammar_text(), lark.__version__)
    syntax = syntax_cache.load(path, entry)
    if syntax is None:
        with open(path, encoding="utf-8", errors="replace") as handle:
            syntax = parse_text(handle.read(), path)
        syntax_cache.store(path, entry, syntax)
    return syntax


def load_workflow(path: str, *, variables: Mapping[str, str] | None = None,
                  base: str | None = None) -> Workflow:
    """Parse (cached) and evaluate the workflow at `path` with the given starting variables."""
    from .evaluate import evaluate

    path = os.path.abspath(path)
    paused = gc.isenabled()
    gc.disable()  # a big workflow is ~10 objects per step made in one go: collecting meanwhile frees nothing
    try:
        return evaluate(path, parse_file(path), variables or {}, base)
    finally:
        if paused:
            gc.enable()


_VAR_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")


def parse_var_args(vars_args: list[str], var_args: list[str]) -> dict[str, str]:
    """Drake's `-v "A=1,B=2"` (commas outside double quotes split) then each `--var A=1`."""
    result: dict[str, str] = {}
    for arg in vars_args:
        for item in _split_outside_quotes(arg, ","):
            if item.strip():
                _add_var(result, item.strip(), "-v")
    for item in var_args:
        _add_var(result, item, "--var")
    return result


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _add_var(result: dict[str, str], item: str, flag: str) -> None:
    pieces = _split_outside_quotes(item, "=")
    if len(pieces) != 2 or not _VAR_NAME.match(pieces[0]):
        raise UsageError(f"bad {flag} variable {item!r}: expected NAME=VALUE")
    value = pieces[1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    result[pieces[0]] = value

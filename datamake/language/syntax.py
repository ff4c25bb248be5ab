"""The syntax of a workflow file as written: typed items, before any evaluation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Union

from datamake.errors import SourceLocation


def _location(item) -> SourceLocation:
    """Where a Text or BodyLine starts, built on demand."""
    return SourceLocation(item.path, item.line, item.col)


class Text(NamedTuple):
    """A raw token (name, value, option...) as written, with the position of its first character.

    A tuple rather than a dataclass, and the location built on demand: big files make one per name.
    """

    value: str
    path: str
    line: int
    col: int
    loc = property(_location)


class BodyLine(NamedTuple):
    """One body line after dedent, with where its (dedented) text starts in the file."""

    text: str
    path: str
    line: int
    col: int
    loc = property(_location)


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
    kind: str  # "include", "call", "context" or "python" (a module that adds steps)
    path: Text
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class ScheduleDecl:
    args: tuple[Text, ...]
    loc: SourceLocation


@dataclass(frozen=True, slots=True)
class Directive:
    """`%on`, `%notify` or `%pool`: its name, arguments and (for `%on`) body."""

    name: str
    args: tuple[Text, ...]
    body: tuple[BodyLine, ...]
    loc: SourceLocation


Item = Union[VarDef, StepDecl, MethodDecl, Include, ScheduleDecl, Directive]


@dataclass(frozen=True, slots=True)
class Syntax:
    """A parsed file: its items in order. Evaluation turns it into steps."""

    path: str
    items: tuple[Item, ...]

"""lark's parse callbacks: tokens -> syntax items, while the LALR parser runs (no tree is built)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from datamake.errors import SourceLocation, WorkflowError
from datamake.language.syntax import BodyLine, Directive, Include, MethodDecl, ScheduleDecl, StepDecl, Text, VarDef
from datamake.language.parse_errors import STRAY_BODY, body_loc

if TYPE_CHECKING:
    import lark


class Build:
    """Runs inside the LALR parser (no tree is built): tokens -> syntax items.

    lark calls the method named after each rule; a plain class serves as well as lark's
    Transformer, so this module loads without lark (a cached parse never imports it).
    """

    def __init__(self, token_type: type) -> None:
        self.token_type = token_type  # lark.Token, given by the parser that imported lark
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
        bodies = [c for c in children[1:] if isinstance(c, self.token_type)]
        return MethodDecl(head[:-2], options, self._body(bodies), self.loc(head))

    def include(self, children):
        head, path = children[0], children[1]
        self._no_body(children, str(head))
        return Include(head[1:], self.text(path), self.loc(head))

    def schedule(self, children):
        self._no_body(children, "%schedule")
        args = tuple(self.text(t) for t in children[1:])
        return ScheduleDecl(args, self.loc(children[0]))

    def directive(self, children):
        head = children[0]
        if head != "%on":
            self._no_body(children, str(head))
        args = tuple(self.text(t) for t in children[1:] if t.type == "ARG")
        bodies = [t for t in children[1:] if t.type == "BODY"]
        return Directive(head[1:], args, self._body(bodies), self.loc(head))

    def stray(self, children):
        raise WorkflowError(STRAY_BODY, body_loc(children[0], self.path))

    def _no_body(self, children, what: str) -> None:
        for child in children:
            if isinstance(child, self.token_type) and child.type == "BODY":
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

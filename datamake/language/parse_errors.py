"""Lark's parse errors -> WorkflowErrors with positions and plain-language messages."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from datamake.errors import SourceLocation, WorkflowError

if TYPE_CHECKING:
    import lark

STRAY_BODY = "indented line without a step header above it (a body must follow `outputs <- inputs`)"
UNINDENTED_BODY = ("command not indented: indent the body of the step above "
                   "(or write `outputs <- inputs` to start a new step)")

_OPTION_FORMS = "expected +flag, -flag, key:value or a protocol name"
_WORDS = ("NAME", "VALUE", "OPTION", "ARG")
_VARDEF = re.compile(r"[A-Za-z0-9_-]+[ \t]*:?=")
_METHOD_HEADER = re.compile(r"[A-Za-z0-9_.-]+\(\)")
_DESCRIBE = {
    "_NL": "end of line",
    "BODY": "indented line",
    "$END": "end of file",
    "ARROW": "'<-'",
    "COMMA": "','",
    "LSQB": "'['",
    "RSQB": "']'",
}


def check_first_line(text: str, path: str) -> None:
    """An indented first line has no newline before it, so the grammar cannot see it as a body."""
    first = text.split("\n", 1)[0]
    stripped = first.lstrip(" \t")
    if stripped and stripped != first:
        raise WorkflowError(STRAY_BODY, SourceLocation(path, 1, len(first) - len(stripped) + 1))


def translate(exc: lark.exceptions.UnexpectedInput, text: str, path: str) -> WorkflowError:
    """The one place lark's exceptions become our messages."""
    import lark  # only reached after a parse, which imported it already

    line = getattr(exc, "line", 0)
    if isinstance(line, int) and line > 1 and _unindented_body(text, line):
        return WorkflowError(UNINDENTED_BODY, SourceLocation(path, line, 1))
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        return _characters(exc, text, path)
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        return _token(exc, text, path)
    line = text.count("\n") or 1
    return WorkflowError("unexpected end of file", SourceLocation(path, line, 1))


def _characters(exc: lark.exceptions.UnexpectedCharacters, text: str, path: str) -> WorkflowError:
    loc = SourceLocation(path, exc.line, exc.column)
    char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
    rest = text[exc.pos_in_stream:exc.pos_in_stream + 2]
    if char in "'\"":
        return WorkflowError(f"unterminated quote: {char} is not closed on this line", loc)
    if rest == "$(":
        return WorkflowError("unterminated $(...): the command is not closed on this line", loc)
    if rest == "$[":
        return WorkflowError("bad variable reference: expected $[NAME]", loc)
    if _VARDEF.match(_line(text, exc.line)):
        return WorkflowError(f"unexpected {char!r} in a variable value "
                             "(quote values that contain spaces or special characters)", loc)
    if "OPTION" in set(exc.allowed or ()):
        return WorkflowError(f"unexpected {char!r} in options: {_OPTION_FORMS}", loc)
    return WorkflowError(f"unexpected character {char!r}", loc)


def _token(exc: lark.exceptions.UnexpectedToken, text: str, path: str) -> WorkflowError:
    token = exc.token
    expected = set(exc.expected or ())
    loc = SourceLocation(path, getattr(token, "line", 1) or 1, getattr(token, "column", 1) or 1)
    # Outside its own context a name may be lexed as any of the word-like terminals.
    word = token.type in _WORDS
    if token.type == "BODY" and not expected & {"BODY", "ARROW"}:
        return WorkflowError(STRAY_BODY, body_loc(token, path))
    line = _line(text, loc.line)
    if word and "COMMA" in expected and "<-" in line[:loc.col - 1]:
        return WorkflowError(f"unexpected name {str(token)!r}: separate names with commas", loc)
    if "ARROW" in expected and (word or token.type in ("_NL", "BODY", "$END", "LSQB")):
        return WorkflowError("missing '<-' in step header (write `outputs <- inputs`)", loc)
    if token.type in ("_NL", "$END") and "RSQB" in expected:
        return WorkflowError("unclosed '[': options must end with ']'", loc)
    if token.type in ("_NL", "$END") and "VALUE" in expected:
        return WorkflowError("missing file name after the directive", loc)
    if word and _VARDEF.match(line):
        return WorkflowError(f"unexpected {str(token)!r} after the value "
                             "(quote values that contain spaces or special characters)", loc)
    if "RSQB" in expected:
        return WorkflowError(f"unexpected {str(token)!r} in options: {_OPTION_FORMS}", loc)
    what = _DESCRIBE.get(token.type) or f"{str(token)!r}"
    return WorkflowError(f"unexpected {what}", loc)


def _unindented_body(text: str, number: int) -> bool:
    """Line `number` fails to parse, starts a line like a command would, and follows a header whose
    body is still empty: most likely the step's command, written without its indentation."""
    lines = text.split("\n")
    here = lines[number - 1] if number <= len(lines) else ""
    if not here or here[0] in " \t%;" or "<-" in here or _VARDEF.match(here) or _METHOD_HEADER.match(here):
        return False
    for above in reversed(lines[:number - 1]):
        if not above.strip() or above.startswith(";"):
            continue
        if above[0] in " \t" or above.rstrip().endswith((",", "\\")):
            return False  # a body, or a header that goes on in this line
        return "<-" in above or bool(_METHOD_HEADER.match(above))
    return False


def _line(text: str, number: int) -> str:
    lines = text.split("\n")
    return lines[number - 1] if 1 <= number <= len(lines) else ""


def body_loc(token: lark.Token, path: str) -> SourceLocation:
    """Where the text of the last line of a BODY token starts."""
    lines = str(token).split("\n")
    last = lines[-1]
    return SourceLocation(path, token.line + len(lines) - 1, len(last) - len(last.lstrip(" \t")) + 1)

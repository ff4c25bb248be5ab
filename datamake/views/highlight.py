"""A Pygments lexer for workflow files, and `--print`'s colouring through it.

Registered as the `datamake` lexer through the `pygments.lexers` entry point, so rich, Sphinx
and MkDocs (`pygmentize -l datamake`, ```` ```datamake ```` fences) highlight workflows.
Pygments comes with rich, a base dependency, and is imported only when this module is.
The token patterns follow grammar/workflow.lark's terminals; the TextMate grammar in
editors/ is checked against the same terminals by a test.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, using
from pygments.lexers.shell import BashLexer
from pygments.token import Comment, Keyword, Name, Operator, Punctuation, String, Text, Whitespace

_VAR = r"\$\[[A-Za-z0-9_-]+(?:\.\.\d+)?\]"
_CMD = r"""\$\((?:[^()'"\n]|'[^'\n]*'|"(?:[^"\\\n]|\\.)*"|\([^()\n]*\))*\)"""


class WorkflowLexer(RegexLexer):
    """datamake / Drake workflows: `outputs <- inputs [options]` headers with indented bodies."""

    name = "datamake"
    aliases = ["datamake", "drake", "drakefile"]
    filenames = ["Drakefile", "*.drake", "Drakefile.*"]
    mimetypes = ["text/x-datamake"]
    url = "https://pypi.org/project/datamake/"

    tokens = {
        "root": [
            (r"^(\d+)(: )", bygroups(Name.Label, Punctuation)),  # `--print` numbers its steps
            (r"^([ \t]+)(.*\n?)", bygroups(Whitespace, using(BashLexer))),  # an indented body line
            (r"\n", Whitespace),
            (r";.*$", Comment.Single),
            (r"^%(include|call|context|python)(?![^\s;])", Keyword.Namespace, "value"),
            (r"^%(schedule|on|notify|pool)(?![^\s;])", Keyword.Namespace, "schedule"),  # words and key:value
            (r"^([A-Za-z0-9_-]+)([ \t]*)(:?=)", bygroups(Name.Variable, Whitespace, Operator), "value"),
            (r"^([A-Za-z0-9_-]+)(\(\))", bygroups(Name.Function, Punctuation), "header"),
            (r"", Text, "header"),
        ],
        "header": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t]+|\\\n", Whitespace),
            (r";.*$", Comment.Single),
            (r"<-", Operator),
            (r",", Punctuation),
            (r"\[", Punctuation, "options"),
            (r"%[A-Za-z0-9_.-]+", Name.Tag),
            (r"[A-Za-z0-9_-]+\(\)", Name.Function),  # a method() selector as a target
            include("parts"),
            (r"""[^\s,\[\]'"();<$\\]+""", String.Other),  # a file name
            (r".", Text),
        ],
        "options": [
            (r"\]", Punctuation, "#pop"),
            (r"\s+", Whitespace),
            (r";.*$", Comment.Single),
            (r"([+-]?[A-Za-z_][A-Za-z0-9_-]*)(:)", bygroups(Name.Attribute, Punctuation), "option-value"),
            (r"[+-]?[A-Za-z_][A-Za-z0-9_-]*", Name.Attribute),
            (r".", Text),
        ],
        "option-value": [
            include("parts"),
            (r"""[^\s\[\]"';$]+""", String),
            (r"", Text, "#pop"),
        ],
        "value": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t]+", Whitespace),
            (r";.*$", Comment.Single),
            include("parts"),
            (r"""[^\s;'"$\\]+""", String),
            (r".", Text),
        ],
        "schedule": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t]+", Whitespace),
            (r";.*$", Comment.Single),
            (r"([A-Za-z_][A-Za-z0-9_-]*)(:)", bygroups(Name.Attribute, Punctuation)),
            include("parts"),
            (r"""[^\s;'"]+""", String),
        ],
        "parts": [
            (_VAR, Name.Variable),
            (_CMD, String.Backtick),
            (r"'[^'\n]*'", String.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r"\\.", String.Escape),
        ],
    }


def highlight_workflow(text: str) -> str:
    """`text` with ANSI colours for a terminal."""
    from pygments import highlight
    from pygments.formatters import TerminalFormatter

    return highlight(text, WorkflowLexer(), TerminalFormatter())

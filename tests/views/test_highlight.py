"""Editor support: the Pygments lexer (through its entry point) and the TextMate grammar, both
checked against the lark grammar's terminals on the example workflows."""
import json
import re
import tomllib
from importlib import import_module

import lark
from pygments import lex
from pygments.token import Comment, Error, Keyword, Name, Operator, String

from conftest import ROOT
from datamake.language.parser import grammar_text
from datamake.views import highlight

TM = json.loads((ROOT / "editors" / "vscode" / "syntaxes" / "datamake.tmLanguage.json").read_text())
CORPUS = "".join(p.read_text() for p in sorted((ROOT / "examples").glob("*/Drakefile"))) + """\
%include more.drake   ; a comment
%call sub/a.drake
%context sub/b.drake
%python steps.py
%pool db 2
%notify json://127.0.0.1:9/hook on:failure,sla-miss
%on failure
  echo failed
%contextual <- x
%online <- y
A := "quoted $[X]" ; note
m2() [+confirm retries:2 timeout:$[T]]
  echo $(date +%F) > $OUTPUT
out/$[DATE].csv, %tag <- 'in put.csv', "b c", $(ls x) [method:m2 -atomic]
"""


def terminals() -> dict[str, str]:
    parser = lark.Lark(grammar_text(), parser="lalr", lexer="contextual")
    # lark writes \n and \t as the characters themselves; the other files spell them as escapes
    return {t.name: t.pattern.to_regexp().replace("\n", "\\n").replace("\t", "\\t") for t in parser.terminals}


def test_the_entry_point_names_the_lexer():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = meta["project"]["entry-points"]["pygments.lexers"]["datamake"]
    module, _, name = target.partition(":")
    assert getattr(import_module(module), name) is highlight.WorkflowLexer


def test_the_lexer_highlights_a_workflow():
    text = (ROOT / "examples" / "basics" / "Drakefile").read_text()
    tokens = [(t, v) for t, v in lex(text, highlight.WorkflowLexer()) if v.strip()]
    assert not [v for t, v in tokens if t in Error]
    assert (Name.Variable, "OUT") in tokens and (Operator, ":=") in tokens
    assert (Name.Variable, "$[OUT]") in tokens and (Operator, "<-") in tokens
    assert (Name.Function, "count") in tokens and (Name.Attribute, "method") in tokens
    assert (Name.Tag, "%report") in tokens
    assert (Comment.Single, "; The header line, once.") in tokens
    assert "".join(v for _t, v in lex(text, highlight.WorkflowLexer())) == text


def test_the_lexer_marks_directives_commands_and_options():
    tokens = list(lex(CORPUS, highlight.WorkflowLexer()))
    assert (Keyword.Namespace, "%include") in tokens and (Keyword.Namespace, "%schedule") in tokens
    assert {(Keyword.Namespace, f"%{name}") for name in ("on", "notify", "pool", "python")} <= set(tokens)
    assert (String.Backtick, "$(ls x)") in tokens and (Name.Attribute, "+confirm") in tokens
    assert (Name.Attribute, "-atomic") in tokens and (Name.Variable, "$[T]") in tokens


def test_print_colours_on_request(project):
    project.workflow("A = 1\nout <- [+confirm]\n  echo $[A] > $OUTPUT\n")
    coloured = project.run("--print", "--color", "always").stdout
    assert "\x1b[" in coloured and re.sub(r"\x1b\[[0-9;]*m", "", coloured) == project.run("--print").stdout
    assert "\x1b[" not in project.run("--print").stdout  # not a terminal: plain text


def spans(pattern: str, text: str, line_starts_only: bool) -> set[tuple[int, int]]:
    """Where `pattern` matches at each start position of `text` (or only at each line's start)."""
    regex = re.compile(pattern, re.M)
    starts = [m.start() for m in re.finditer(r"^", text, re.M)] if line_starts_only else range(len(text))
    return {(s, m.end()) for s in starts if (m := regex.match(text, s)) and m.end() > s}


def test_textmate_rules_match_exactly_where_the_lark_terminals_do():
    lark_terms = terminals()
    repo = TM["repository"]
    pairs = [  # (lark regex, TextMate regex, compare at line starts only)
        (lark_terms["COMMENT"], repo["comment"]["match"], False),
        (lark_terms["OPTION"], repo["option"]["match"], False),
        (lark_terms["VARDEF"], repo["vardef"]["begin"].lstrip("^"), True),
        (lark_terms["METHOD"], repo["method"]["begin"].lstrip("^"), True),
        ("(?:" + lark_terms["INCLUDE"] + ")|(?:" + lark_terms["SCHEDULE"] + ")|(?:" + lark_terms["DIRECTIVE"] + ")",
         repo["directive"]["begin"].lstrip("^"), True),
    ]
    for theirs, ours, at_line_start in pairs:
        assert spans(theirs, CORPUS, at_line_start) == spans(ours, CORPUS, at_line_start), ours
        assert spans(ours, CORPUS, at_line_start), ours  # the corpus exercises every rule


def test_variable_and_command_parts_are_the_grammars_own():
    name = terminals()["NAME"]
    for ours in (TM["repository"]["variable"]["match"], TM["repository"]["command"]["match"]):
        assert ours in name
    assert highlight._VAR in name and highlight._CMD in name

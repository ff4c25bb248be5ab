"""Property: any text yields a Workflow or a located DatamakeError, never another exception."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamake.errors import DatamakeError, caret_under
from datamake.evaluate import evaluate
from datamake.model import Workflow
from datamake.parser import parse_text

# Pieces of the language, so random text reaches deep into the grammar and the evaluator.
PIECES = ["a", "b.csv", "out/x", " ", "\t", "\n", "\n  ", "  ", ",", ", ", "<-", " <- ", "[", "]", "'", '"',
          "$[", "$[A]", "$[INPUT1]", "$[OUTPUTS]", ";", "; c", "%t", "?", "!", "=", ":=", "A", "A=1\n",
          "m()", "method:m", "method-mode:append", "+confirm", "-timecheck", "timeout:5m", "retries:x",
          "python", "pyton", "%include ", "%call ", "%context ", "%schedule ", "daily", "tz:UTC", "\\",
          "(", ")", ":", "-", "s3://b/k", "file:f", "\r\n", "$", "*"]

NAMES = st.sampled_from(["a", "b.csv", "out/$[A]", "%t", "?in", "!raw", "'q q'", "s3://b/k", "x//y/../z"])
OPTIONS = st.sampled_from(["python", "+confirm", "-timecheck", "timeout:5m", "retries:2", "method:m",
                           "method-mode:replace", "check:hash"])
header = st.builds(lambda outs, ins, opts: f"{', '.join(outs)} <- {', '.join(ins)} [{' '.join(opts)}]",
                   st.lists(NAMES, max_size=3), st.lists(NAMES, max_size=3), st.lists(OPTIONS, max_size=2))
body = st.sampled_from(["  cp $INPUT $OUTPUT", "  echo $[INPUT0] $[OUTPUTS]", "    nested", "\tcat $[A]"])
other = st.sampled_from(["A=1", "A:=$[A]x", "m() [python]", "; comment", "", "%schedule daily tz:UTC",
                         "%include nowhere"])
noise = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=12).map("".join)
lines = st.lists(st.one_of(header, body, body, other, noise), max_size=12).map("\n".join)
texts = st.one_of(lines, st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=40).map("".join))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts.filter(lambda text: "$(" not in text))  # no parse-time commands from random text
def test_any_text_gives_a_workflow_or_a_located_error(tmp_path_factory, text):
    workdir = tmp_path_factory.getbasetemp() / "fuzz"
    workdir.mkdir(exist_ok=True)
    path = str(workdir / "Drakefile")
    try:
        result = evaluate(path, parse_text(text, path), {}, None)
    except DatamakeError as err:
        assert err.loc is not None, err.message
        assert err.loc.path.startswith(str(workdir)) and err.loc.line >= 1 and err.loc.col >= 1
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n") + [""]
        source = lines[err.loc.line - 1]
        assert err.render() == f"{err.loc}: error: {err.message}\n{source}\n{caret_under(source, err.loc.col)}"
    else:
        assert isinstance(result, Workflow)

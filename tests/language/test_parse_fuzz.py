"""Properties: any text gives a Workflow or a located error; well-formed workflows round-trip."""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamake.errors import DatamakeError, caret_under
from datamake.language.evaluate import evaluate
from datamake.model import Workflow
from datamake.language.parser import parse_text

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
        message = f"{err.message} ({err.hint})" if err.hint else err.message  # a did-you-mean, say
        assert err.render() == f"{err.loc}: error: {message}\n{source}\n{caret_under(source, err.loc.col)}"
    else:
        assert isinstance(result, Workflow)


# Characters a bare name may use (Drake's set and a few more), and a name that needs quoting.
NAME_CHARS = "abcXYZ019_.-/+@#&{}*~^é"
bare_names = st.text(NAME_CHARS, min_size=1, max_size=8).filter(
    lambda n: n[0] not in "%?!-^" and "://" not in n and not n.startswith("file:"))
quoted_names = st.text(NAME_CHARS + " ", min_size=1, max_size=8).filter(lambda n: n.strip() and n[0] not in "%?!")
body_lines = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20).filter(
    lambda line: line.strip() == line and "$[" not in line)
steps = st.lists(st.tuples(st.lists(st.one_of(bare_names, quoted_names), min_size=1, max_size=3),
                           st.lists(bare_names, max_size=3), st.lists(body_lines, min_size=1, max_size=3)),
                 min_size=1, max_size=5)


def written(name: str) -> str:
    return f"'{name}'" if " " in name else name


@settings(max_examples=300, deadline=None)
@given(steps)
def test_well_formed_workflows_round_trip(tmp_path_factory, generated):
    workdir = tmp_path_factory.getbasetemp() / "roundtrip"
    workdir.mkdir(exist_ok=True)
    path = str(workdir / "Drakefile")
    text = "".join(f"{', '.join(map(written, outs))} <- {', '.join(ins)}\n" + "".join(f"  {line}\n" for line in body)
                   for outs, ins, body in generated)
    workflow = evaluate(path, parse_text(text, path), {}, None)

    def key(name):
        return os.path.normpath(name if name.startswith("/") else os.path.join(workdir, name))

    assert len(workflow.steps) == len(generated)
    for step, (outs, ins, body) in zip(workflow.steps, generated):
        assert [t.name for t in step.outputs] == [key(n) for n in outs]
        assert [t.name for t in step.inputs] == [key(n) for n in ins]
        assert step.body == "\n".join(body)

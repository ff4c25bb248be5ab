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
        read = text.removeprefix("\ufeff")  # a leading byte-order mark is not part of the text
        lines = read.replace("\r\n", "\n").replace("\r", "\n").split("\n") + [""]
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


# ---------------------------------------------------------------- mutations of real workflows

def _real_workflows() -> list[tuple[str, str]]:
    """Every example workflow, and every workflow written in a test (a string literal with `<-` in it)."""
    import ast
    import textwrap
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = {str(p.relative_to(root)): p.read_text() for p in sorted((root / "examples").rglob("Drakefile"))}
    for module in sorted((root / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "<-" in node.value \
                    and "\n" in node.value:
                found.setdefault(f"{module.relative_to(root)}:{node.lineno}", textwrap.dedent(node.value))
    return sorted(found.items())


def _mutations(data: bytes, rng) -> list[tuple[str, bytes]]:
    """Bytes a workflow file may really hold: NUL, BOMs, CRs, a very long line, a stray byte, a cut."""
    at = rng.randrange(len(data) + 1)
    line_end = data.find(b"\n", at) if b"\n" in data[at:] else len(data)
    return [
        ("nul", data[:at] + b"\0" + data[at:]),
        ("bom", b"\xef\xbb\xbf" + data),
        ("bom inside", data[:at] + "\ufeff".encode() + data[at:]),
        ("crlf", data.replace(b"\n", b"\r\n")),
        ("cr", data.replace(b"\n", b"\r")),
        ("long line", data[:line_end] + b"x" * 70_000 + data[line_end:]),
        ("latin-1 byte", data[:at] + b"\xe9" + data[at:]),
        ("cut", data[:at]),
    ]


# Mutations no workflow survives: never silently accepted. A byte put inside a multi-byte character
# makes that character's first byte the invalid one, so the message names 0xe9 or the byte before it.
REFUSED = {"nul": "NUL byte", "latin-1 byte": "invalid UTF-8 byte 0x"}


def _load_checked(path, text_has_commands: bool, refused: str | None) -> None:
    """A Workflow or a located DatamakeError whose caret can be drawn; any other exception fails the test."""
    from datamake.language.load import load_workflow
    from datamake.language.parser import parse_file

    try:
        if text_has_commands:  # parse only: $(...) would run the test's commands
            parse_file(str(path))
        else:
            load_workflow(str(path))
        assert refused is None, f"accepted a workflow with a {refused}"
    except DatamakeError as err:
        assert refused is None or refused in err.message, err.message
        assert err.loc is not None, err.message
        assert err.loc.line >= 1 and err.loc.col >= 1, err.render()
        assert err.loc.path.startswith(str(path.parent)), err.loc
        assert "\n" not in err.message, err.message
        err.render()


def test_mutations_of_every_real_workflow_load_or_fail_located(tmp_path):
    import random
    import time

    workflows = _real_workflows()
    assert len(workflows) > 50  # the examples and the tests' own workflows were found
    rng = random.Random(17)
    deadline = time.monotonic() + 30  # a bound: ~5 s on an idle machine; a loaded one tries fewer cases
    count = 0
    for name, text in workflows:
        if time.monotonic() > deadline:
            break
        for kind, data in rng.sample(_mutations(text.encode(), rng), 3):  # every kind ~90 times, in ~700 cases
            count += 1
            path = tmp_path / str(count) / "Drakefile"  # a fresh name: the parse cache keys on path and stat
            path.parent.mkdir()
            path.write_bytes(data)
            try:
                _load_checked(path, b"$(" in data, REFUSED.get(kind))
            except Exception as exc:  # say which workflow and mutation broke it
                raise AssertionError(f"{name} with {kind}: {type(exc).__name__}: {exc}") from exc
    assert count >= 150, f"only {count} cases in the time allowed"


def test_a_runaway_include_chain_is_a_located_error(tmp_path):
    from datamake.language.load import load_workflow

    depth = 400
    for i in range(depth):
        (tmp_path / f"{i}.drake").write_text(f"%include {i + 1}.drake\n" if i + 1 < depth else "Y=1\n")
    (tmp_path / "Drakefile").write_text("%include 0.drake\nout <-\n  echo\n")
    try:
        load_workflow(str(tmp_path / "Drakefile"))
    except DatamakeError as err:
        assert err.loc is not None and err.loc.path.endswith(".drake") and "nested more than" in err.message
    else:
        raise AssertionError("a 400-deep include chain loaded")

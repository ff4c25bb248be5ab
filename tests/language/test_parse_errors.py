"""Every workflow error: the whole message, with its location, source line and caret."""
import pytest
from language_helpers import error, write

from datamake.errors import WorkflowError
from datamake.language.load import load_workflow


def expect(tmp_path, text, line, col, message, source, name="Drakefile"):
    path = tmp_path / name
    caret = " " * (col - 1) + "^"
    assert error(tmp_path, text, name) == f"{path}:{line}:{col}: error: {message}\n{source}\n{caret}"


def test_missing_arrow(tmp_path):
    expect(tmp_path, "out.csv in.csv\n  cp a b\n", 1, 9,
           "missing '<-' in step header (write `outputs <- inputs`)", "out.csv in.csv")


def test_missing_arrow_at_end_of_line(tmp_path):
    expect(tmp_path, "out.csv\n  cp a b\n", 1, 8,
           "missing '<-' in step header (write `outputs <- inputs`)", "out.csv")


UNINDENTED = ("command not indented: indent the body of the step above "
              "(or write `outputs <- inputs` to start a new step)")


@pytest.mark.parametrize("text, line, source", [
    ("out.csv <- in.csv\ncp $INPUT $OUTPUT\n", 2, "cp $INPUT $OUTPUT"),
    ("out.csv <- in.csv [shell]\n; why\n\nsort in.csv | uniq > out.csv\n", 4, "sort in.csv | uniq > out.csv"),
    ("clean() [shell]\necho 'hi\n", 2, "echo 'hi"),
    ("out.csv <- in.csv\necho", 2, "echo"),
])
def test_command_not_indented(tmp_path, text, line, source):
    expect(tmp_path, text, line, 1, UNINDENTED, source)


def test_a_bad_line_after_a_body_or_a_continued_header_is_not_a_command(tmp_path):
    expect(tmp_path, "a <- b\n  x\ncp a b\n", 3, 4,
           "missing '<-' in step header (write `outputs <- inputs`)", "cp a b")
    expect(tmp_path, "a <- b\nFOO=1 cmd\n", 2, 7,
           "unexpected 'cmd' after the value (quote values that contain spaces or special characters)",
           "FOO=1 cmd", "d2")


def test_names_without_comma(tmp_path):
    expect(tmp_path, "a <- b c\n  x\n", 1, 8, "unexpected name 'c': separate names with commas", "a <- b c")


def test_optional_output(tmp_path):
    expect(tmp_path, "?out <- in\n  x\n", 1, 1, "only inputs can be optional: remove the '?' from this output",
           "?out <- in")


def test_body_without_step(tmp_path):
    expect(tmp_path, "A=1\n\n  echo hi\n", 3, 3,
           "indented line after a variable definition: only steps and methods have bodies", "  echo hi")


def test_body_after_comment_line_has_no_step(tmp_path):
    expect(tmp_path, "a <-\n  x\n; the body ended\n  y\n", 4, 3,
           "indented line without a step header above it (a body must follow `outputs <- inputs`)", "  y")


def test_body_on_first_line(tmp_path):
    path = tmp_path / "Drakefile"
    path.write_text("\techo hi\n")
    with pytest.raises(WorkflowError) as caught:
        load_workflow(str(path))
    assert caught.value.render() == (
        f"{path}:1:2: error: indented line without a step header above it (a body must follow "
        "`outputs <- inputs`)\n\techo hi\n\t^")


def test_unknown_option_with_suggestion(tmp_path):
    expect(tmp_path, "a <- b [timout:5m]\n  x\n", 1, 9,
           "unknown option: timout (did you mean timeout?)", "a <- b [timout:5m]")


def test_unknown_protocol_with_suggestion(tmp_path):
    expect(tmp_path, "a <- b [+confirm pyton]\n  x\n", 1, 18,
           "unknown protocol: pyton (did you mean python?)", "a <- b [+confirm pyton]")


def test_bad_option_values(tmp_path):
    expect(tmp_path, "a <- [retries:many]\n  x\n", 1, 7,
           "option retries needs a whole number, not 'many'", "a <- [retries:many]")
    expect(tmp_path, "a <- [timeout:soon]\n  x\n", 1, 7,
           "option timeout needs a duration like 90s, 5m, 2h or 1d, not 'soon'", "a <- [timeout:soon]", "d2")
    expect(tmp_path, "a <- [check:md5]\n  x\n", 1, 7,
           "invalid check: md5 (choose timestamp, hash)", "a <- [check:md5]", "d3")
    expect(tmp_path, "a <- [retries]\n  x\n", 1, 7,
           "option retries takes a value: write retries:VALUE", "a <- [retries]", "d4")


def test_undefined_variable_at_its_position(tmp_path):
    expect(tmp_path, "A=1\nout/$[A]/$[NOPE] <- x\n  true\n", 2, 10,
           "undefined variable: NOPE", "out/$[A]/$[NOPE] <- x")
    expect(tmp_path, "COUNT=1\nout <-\n  echo $[COUNT] \"$[CONUT]\"\n", 3, 18,
           "undefined variable: CONUT (did you mean COUNT?)", '  echo $[COUNT] "$[CONUT]"', "d2")
    expect(tmp_path, 'X="pre $[Y]"\n', 1, 8, "undefined variable: Y", 'X="pre $[Y]"', "d3")
    expect(tmp_path, 'a <- [timeout:"$[T]m"]\n  x\n', 1, 16, "undefined variable: T", 'a <- [timeout:"$[T]m"]', "d4")


def test_input_index_out_of_range(tmp_path):
    expect(tmp_path, "out <- a, b\n  cat $[INPUT3]\n", 2, 7,
           "$[INPUT3] is out of range: the step has 2 inputs", "  cat $[INPUT3]")
    expect(tmp_path, "<- a\n  cat $[OUTPUT]\n", 2, 7,
           "$[OUTPUT] is out of range: the step has 0 outputs", "  cat $[OUTPUT]", "d2")


def test_invalid_method_mode(tmp_path):
    expect(tmp_path, "m()\n  x\na <- [method:m method-mode:merge]\n  y\n", 3, 16,
           "invalid method-mode: merge (choose use, append, replace)", "a <- [method:m method-mode:merge]")


def test_method_mode_without_method(tmp_path):
    expect(tmp_path, "a <- [method-mode:append]\n  y\n", 1, 7,
           "method-mode needs a method: add method:NAME", "a <- [method-mode:append]")


def test_method_used_before_definition(tmp_path):
    expect(tmp_path, "a <- [method:late]\nlate()\n  x\n", 1, 7,
           "undefined method: late (a method must be defined above the steps that use it)",
           "a <- [method:late]")


def test_use_mode_step_with_its_own_body(tmp_path):
    expect(tmp_path, "m()\n  x\na <- [method:m]\n  y\n", 4, 3,
           "step uses method m() in use mode but has its own body "
           "(add method-mode:append or method-mode:replace)", "  y")


def test_empty_bodies(tmp_path):
    expect(tmp_path, "a <- b\nc <- d\n  x\n", 1, 1,
           "step has an empty body: indent its commands below the header", "a <- b")
    # An empty method is allowed (as in Drake) until a step uses it.
    expect(tmp_path, "m()\na <- b [method:m]\n", 2, 9,
           "method m() has an empty body: give it commands, or use method-mode:append or replace with the "
           "step's own", "a <- b [method:m]", "d2")
    expect(tmp_path, "m()\n  x\na <- [method:m method-mode:replace]\n", 3, 1,
           "step has an empty body: method-mode:replace needs the step's own commands",
           "a <- [method:m method-mode:replace]", "d3")


def test_unterminated_quotes(tmp_path):
    expect(tmp_path, "A='abc\n", 1, 3, "unterminated quote: ' is not closed on this line", "A='abc")
    expect(tmp_path, "'my file <- x\n  y\n", 1, 1, "unterminated quote: ' is not closed on this line",
           "'my file <- x", "d2")
    expect(tmp_path, 'a <- b [timeout:"5m]\n  y\n', 1, 17, 'unterminated quote: " is not closed on this line',
           'a <- b [timeout:"5m]', "d3")


def test_value_with_space(tmp_path):
    expect(tmp_path, "A=two words\n", 1, 7,
           "unexpected 'words' after the value (quote values that contain spaces or special characters)", "A=two words")


def test_bad_option_syntax(tmp_path):
    expect(tmp_path, "a <- b [x (y)]\n  z\n", 1, 11,
           "unexpected '(y)]' in options: expected +flag, -flag, key:value or a protocol name", "a <- b [x (y)]")
    expect(tmp_path, "a <- b [x=1]\n  z\n", 1, 10,
           "unexpected '=1' in options: expected +flag, -flag, key:value or a protocol name", "a <- b [x=1]", "d2")


def test_unclosed_options(tmp_path):
    expect(tmp_path, "a <- b [python\n", 1, 15, "unclosed '[': options must end with ']'", "a <- b [python")


def test_failing_command_reports_its_stderr(tmp_path):
    expect(tmp_path, "A=1\nB=$(echo 'bad thing'  >&2; echo more >&2; exit 3)\n", 2, 3,
           "$(echo 'bad thing'  >&2; echo more >&2; exit 3) failed with exit status 3: bad thing more",
           "B=$(echo 'bad thing'  >&2; echo more >&2; exit 3)")


def test_include_not_found(tmp_path):
    expect(tmp_path, "%include lib/missing.drake\n", 1, 10,
           "%include file not found: lib/missing.drake", "%include lib/missing.drake")


def test_include_cycle(tmp_path):
    write(tmp_path, "%call ../Drakefile\n", "sub/one.drake")
    path = tmp_path / "sub/one.drake"
    text = error(tmp_path, "a <-\n  x\n%include sub/one.drake\n")
    assert text == (f"{path}:1:1: error: include cycle: Drakefile -> one.drake -> Drakefile\n"
                    "%call ../Drakefile\n^")


def test_error_inside_an_included_file_points_into_it(tmp_path):
    write(tmp_path, "x <- y [nope:1]\n  z\n", "inc.drake")
    path = tmp_path / "inc.drake"
    text = error(tmp_path, "%include inc.drake\n")
    assert text == f"{path}:1:9: error: unknown option: nope\nx <- y [nope:1]\n        ^"


def test_schedule_without_spec(tmp_path):
    expect(tmp_path, "%schedule tz:UTC\n", 1, 1,
           "%schedule needs a schedule: hourly, daily, weekly, monthly, @daily, every:30m, @once or a cron expression",
           "%schedule tz:UTC")


@pytest.mark.parametrize("text", ["a <- b]\n  x\n", "<- [\n", "A=(x)\n", "m() <- x\n", ",\n", "%include\n"])
def test_other_syntax_errors_are_ours_with_a_location(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(WorkflowError) as caught:
        load_workflow(str(path))
    assert caught.value.loc is not None and caught.value.loc.path == str(path)
    assert caught.value.render().startswith(f"{path}:")

"""Includes, calls and contexts; the parse cache and the once-per-process $(command) memo."""
import os

from language_helpers import load, write

from datamake.language import parser
from datamake.language.load import load_workflow


def test_include_leaks_variables_and_methods_call_does_not(tmp_path):
    write(tmp_path, """
        LIB=from-lib
        shout() [python]
          print("$[LIB]")
        lib.out <-
          echo lib
    """, "lib/defs.drake")
    write(tmp_path, """
        PRIVATE=hidden
        private() [python]
          print(1)
        called.out <-
          echo $[PRIVATE]
    """, "lib/called.drake")
    wf = load(tmp_path, """
        %include lib/defs.drake
        %call lib/called.drake
        main.out <- [method:shout]
        after <-
          echo $[LIB]
    """)
    assert [os.path.basename(s.outputs[0].name) for s in wf.steps] == ["lib.out", "called.out", "main.out", "after"]
    assert wf.steps[1].body == "echo hidden"
    assert wf.steps[2].body == 'print("from-lib")'
    assert "PRIVATE" not in wf.steps[3].vars and "private" not in wf.methods
    # Included steps run where the including workflow runs, and BASE is the main directory.
    assert wf.steps[0].workdir == str(tmp_path)
    assert wf.steps[0].outputs[0].name == str(tmp_path / "lib.out")


def test_include_paths_are_relative_to_the_including_file(tmp_path):
    write(tmp_path, "%include deeper/c.drake\n", "a/b.drake")
    write(tmp_path, "X=deep\n", "a/deeper/c.drake")
    wf = load(tmp_path, """
        %include a/b.drake
        out <-
          echo $[X]
    """)
    assert wf.steps[0].body == "echo deep"


def test_context_runs_steps_and_resolves_names_in_the_files_directory(tmp_path):
    write(tmp_path, """
        CTX=set-in-context
        local.out <- local.in, !../top.txt
          cat $INPUT > $OUTPUT
        here <-
          V=$(pwd)
    """, "sub/Drakefile")
    (tmp_path / "sub" / "marker").write_text("")
    wf = load(tmp_path, """
        %context sub/Drakefile
        top.out <-
          echo $[CTX] $[BASE]
    """)
    sub = tmp_path / "sub"
    step = wf.steps[0]
    assert step.workdir == str(sub)
    assert [t.name for t in step.outputs + step.inputs] == [str(sub / "local.out"), str(sub / "local.in"),
                                                            str(tmp_path / "top.txt")]
    assert step.body == "cat $INPUT > $OUTPUT" and step.step_vars()["INPUT1"] == str(tmp_path / "top.txt")
    assert wf.steps[2].workdir == str(tmp_path)
    assert wf.steps[2].body == f"echo set-in-context {tmp_path}"


def test_command_in_an_included_context_runs_in_its_directory(tmp_path):
    write(tmp_path, "WHERE=$(basename $(pwd))\n", "inner/ctx.drake")
    wf = load(tmp_path, """
        %context inner/ctx.drake
        out <-
          echo $[WHERE]
    """)
    assert wf.steps[0].body == "echo inner"


def test_commands_run_once_per_process_and_parses_are_cached(tmp_path):
    counter = tmp_path / "count"
    text = f"""
        N=$(echo x >> {counter}; echo once)
        out <-
          echo $[N]
    """
    path = write(tmp_path, text)
    first = load_workflow(str(path))
    second = load_workflow(str(path), variables={"DATE": "2026-01-02"})
    assert first.steps[0].body == second.steps[0].body == "echo once"
    assert counter.read_text() == "x\n"
    assert parser.parse_file(str(path)) is parser.parse_file(str(path))
    # A changed file is parsed again.
    path.write_text("out <-\n  echo changed and longer\n")
    os.utime(path, ns=(1, 1))
    assert load_workflow(str(path)).steps[0].body == "echo changed and longer"


def test_same_syntax_evaluates_with_different_starting_variables(tmp_path):
    path = write(tmp_path, """
        raw/$[DATE].json <-
          echo $[DATE] > $OUTPUT
    """)
    days = [load_workflow(str(path), variables={"DATE": d}) for d in ("2026-11-01", "2026-11-02")]
    assert [wf.steps[0].outputs[0].name for wf in days] == [str(tmp_path / "raw/2026-11-01.json"),
                                                           str(tmp_path / "raw/2026-11-02.json")]
    assert days[1].steps[0].body == "echo 2026-11-02 > $OUTPUT"


def test_a_workflow_names_the_files_and_commands_its_evaluation_read(tmp_path):
    write(tmp_path, "X=$(echo from-include)\n", "lib/defs.drake")
    write(tmp_path, "called.out <-\n  echo c\n", "lib/called.drake")
    wf = load(tmp_path, """
        %include lib/defs.drake
        %call lib/called.drake
        out <-
          echo $[X]
    """)
    assert wf.sources == (str(tmp_path / "Drakefile"), str(tmp_path / "lib/defs.drake"),
                          str(tmp_path / "lib/called.drake"))
    assert wf.commands == ("echo from-include",)
    # A $(command) already run in this process is reused, and still named: the workflow depends on it.
    assert load(tmp_path, "Y=$(echo from-include)\n", "other.drake").commands == ("echo from-include",)
    assert load(tmp_path, "plain <-\n  echo p\n", "plain.drake").commands == ()

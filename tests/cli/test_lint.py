"""--lint: a check with no side effects; located errors and exit 2; the pre-commit hook that runs it."""
from conftest import ROOT

GOOD = """\
    STAMP := $(touch marker && echo stamp)
    %schedule daily
    fetch()
      echo fetched > $OUTPUT

    raw/$[DATE].json <- [method:fetch]
    out/$[STAMP].txt, %done <- raw/$[DATE].json
      cp $INPUT $OUTPUT
    """


def test_a_good_workflow_passes_and_no_command_runs(project):
    project.workflow(GOOD)
    done = project.run("--lint")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Drakefile: ok (2 steps)\n", "")
    assert not project.exists("marker")
    assert not project.exists(".datamake")


def test_print_by_contrast_runs_the_command(project):
    project.workflow(GOOD)
    project.run("--print", "--var", "DATE=2026-01-01")
    assert project.exists("marker")


def test_an_undefined_variable_inside_a_command_is_located_and_nothing_runs(project):
    project.workflow("""\
        X = $(touch marker; echo $[NOPE])
        a <-
          echo a > $OUTPUT
        """)
    done = project.run("--lint")
    assert done.returncode == 2
    assert done.stderr.startswith("Drakefile:1:26: error: undefined variable: NOPE")
    assert not project.exists("marker")


def test_unknown_option_and_method_are_located(project):
    project.workflow("""\
        a <- [timout:3]
          echo a > $OUTPUT
        """)
    done = project.run("--lint")
    assert done.returncode == 2
    assert done.stderr.startswith("Drakefile:1:7: error: unknown option") and "timeout" in done.stderr
    project.workflow("""\
        a <- [method:nope]
        """)
    done = project.run("--lint")
    assert done.returncode == 2 and done.stderr.startswith("Drakefile:1:7: error: undefined method: nope")


def test_syntax_errors_missing_includes_and_cycles_fail(project):
    project.workflow("a <- b\n")
    assert project.run("--lint").stderr.startswith("Drakefile:1:1: error: step has an empty body")
    project.workflow("%include other.drake\n")
    done = project.run("--lint")
    assert done.returncode == 2 and done.stderr.startswith("Drakefile:1:10: error: %include file not found")
    project.workflow("""\
        a <- b
          cp b a
        b <- a
          cp a b
        """)
    done = project.run("--lint")
    assert done.returncode == 2 and "cycle dependency detected: a -> b -> a" in done.stderr


def test_several_files_as_pre_commit_passes_them(project):
    project.write("one/Drakefile", "a <-\n  echo > $OUTPUT\n")
    project.write("two/Drakefile", "a <- \n  echo $[MISSING]\n")
    done = project.run("--lint", "one/Drakefile", "two/Drakefile")
    assert done.returncode == 2
    assert done.stdout == "one/Drakefile: ok (1 step)\n"
    assert "undefined variable: MISSING" in done.stderr


def test_the_pre_commit_hook_runs_the_lint():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: datamake-lint" in text
    assert "entry: datamake --lint" in text


def test_a_bad_schedule_is_located(project):
    project.workflow("%schedule fortnightly\nout/$[DATE].txt <-\n  echo > $OUTPUT\n")
    done = project.run("--lint")
    assert done.returncode == 2
    assert done.stderr.startswith("Drakefile:1:") and "fortnightly" in done.stderr.splitlines()[0]

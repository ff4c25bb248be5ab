"""Target selection through the real command: every mark, name kinds, and selection errors."""

import pytest
from jsonkit import checked

WORKFLOW = """\
raw.csv <-
  echo raw > $OUTPUT

clean.csv <- raw.csv
  cat $INPUT > $OUTPUT

report.csv, %reports <- clean.csv
  cat $INPUT > $OUTPUT

plot.png <- clean.csv
  cat $INPUT > $OUTPUT

tidy() [protocol:shell]
  echo tidy > $OUTPUT

other.csv <- [method:tidy]
"""


@pytest.fixture
def built(project):
    project.workflow(WORKFLOW)
    assert project.run().returncode == 0
    return project


def planned(project, *targets):
    done = project.run("-P", "--json", *targets)
    assert done.returncode == 0, done.stderr
    return [(s["index"], s["reason"]) for s in checked(done.stdout, "preview")["steps"]]


def test_no_target_means_every_step(project):
    project.workflow(WORKFLOW)
    assert [i for i, _ in planned(project)] == [0, 1, 2, 3, 4]
    assert [i for i, _ in planned(project, "...")] == [0, 1, 2, 3, 4]


def test_name_brings_its_dependencies(project):
    project.workflow(WORKFLOW)
    assert planned(project, "report.csv") == [(0, "missing output"), (1, "missing output"), (2, "missing output")]


def test_plus_forces_the_expansion_and_equals_takes_one_step(built):
    assert planned(built, "+report.csv") == [(0, "forced"), (1, "forced"), (2, "forced")]
    assert planned(built, "+=clean.csv") == [(1, "forced")]


def test_caret_takes_dependants_and_minus_removes(built):
    assert [i for i, _ in planned(built, "+^raw.csv")] == [0, 1, 2, 3]
    assert [i for i, _ in planned(built, "+^raw.csv", "-report.csv")] == [3]
    assert planned(built, "-report.csv", "+=plot.png") == [(3, "forced")]


def test_tag_method_and_regex(built):
    # the no-input step always runs, so what reads its output is projected
    assert planned(built, "%reports") == [(0, "no-input step"), (1, "projected"), (2, "via tag")]
    assert planned(built, "=%reports") == [(2, "via tag")]
    assert planned(built, "tidy()") == [(4, "via method")]
    assert [i for i, _ in planned(built, "+=@(plot|other)")] == [3, 4]


def test_names_are_normalised(built):
    assert planned(built, "+=./sub/../clean.csv") == [(1, "forced")]
    assert planned(built, f"+={built.path}/clean.csv") == [(1, "forced")]


def test_unknown_target_exits_2_with_a_suggestion(project):
    project.workflow(WORKFLOW)
    done = project.run("reprot.csv")
    assert done.returncode == 2
    assert done.stderr == "datamake: error: target not found: reprot.csv (did you mean report.csv?)\n"


def test_cycle_is_an_error_only_when_selected(project):
    project.workflow("""\
        a <- b
          cp b a
        b <- a
          cp a b
        c <-
          echo c > $OUTPUT
        """)
    done = project.run("-P")
    assert done.returncode == 2
    assert "error: cycle dependency detected: a -> b -> a" in done.stderr
    assert "Traceback" not in done.stderr
    assert project.run("=c").returncode == 0 and project.read("c") == "c\n"


def test_cycle_entered_from_a_step_outside_it_is_a_located_error(project):
    project.workflow("""\
        report <- b
          cp b report
        b <- c
          cp c b
        c <- b
          cp b c
        """)
    done = project.run()
    assert done.returncode == 2
    assert done.stderr == "Drakefile:3:1: error: cycle dependency detected: b -> c -> b\nb <- c\n^\n"


def test_duplicate_output_is_an_error_only_when_selected(project):
    project.workflow("""\
        dup <-
          echo 1 > $OUTPUT
        dup <-
          echo 2 > $OUTPUT
        c <-
          echo c > $OUTPUT
        """)
    done = project.run()
    assert done.returncode == 2
    assert done.stderr == ("Drakefile:3:1: error: duplicated outputs: dup (step at Drakefile:1:1 writes it too)\n"
                           "dup <-\n^\n")
    assert not project.exists("c")
    assert project.run("c").returncode == 0

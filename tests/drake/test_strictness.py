"""Where Drake is lenient and nobody gains from datamake being stricter, datamake is lenient too."""
from jsonkit import checked


def ran(done) -> list[int]:
    assert done.returncode in (0, 1), done.stderr
    return checked(done.stdout, "build")["ran"]


def test_an_empty_method_is_an_error_only_for_a_selected_step_using_it(project):
    project.workflow("""\
        todo()

        later.txt <- [method:todo]

        now.txt <-
          echo now > $OUTPUT
        """)
    assert project.run("now.txt").returncode == 0 and project.read("now.txt") == "now\n"
    done = project.run("later.txt")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "Drakefile:3:15: error: method todo() has an empty body: give it commands, or use "
        "method-mode:append or replace with the step's own\n"
        "later.txt <- [method:todo]\n"
        "              ^\n")


def test_a_step_with_a_bad_body_or_options_fails_only_when_selected(project):
    project.workflow("""\
        good.txt <-
          echo good > $OUTPUT
        typo.txt <- [timout:5m]
          echo typo > $OUTPUT
        unknown.txt <-
          echo $[NOT_DEFINED] > $OUTPUT
        """)
    assert ran(project.run("--json", "good.txt")) == [0]
    typo = project.run("typo.txt")
    assert typo.returncode == 2
    assert typo.stderr.startswith("Drakefile:3:14: error: unknown option: timout (did you mean timeout?)\n")
    everything = project.run()
    assert everything.returncode == 2 and "unknown option: timout" in everything.stderr
    assert "Drakefile:6:8: error: undefined variable: NOT_DEFINED" in project.run("=unknown.txt").stderr
    assert project.run("-p").returncode == 2
    # A broken header still stops everything: without sound names there is no graph to select from.
    project.workflow("good.txt <- $[NOPE]\n  echo\nother.txt <-\n  echo > $OUTPUT\n")
    assert project.run("other.txt").returncode == 2


def test_an_unterminated_variable_reference_is_an_error_at_its_place(project):
    project.workflow("""\
        all.txt <- a.txt, b.txt
          cat $[INPUTS > $OUTPUT
        """)
    done = project.run("-P")
    assert done.returncode == 2
    assert done.stderr == (
        "Drakefile:2:7: error: unterminated $[: a variable is written $[NAME] (letters, digits, _ and -)\n"
        "  cat $[INPUTS > $OUTPUT\n"
        "      ^\n")
    project.workflow("all.txt <-\n  echo $[1 + 2] > $OUTPUT\n")
    assert "error: bad variable reference $[1 + 2]" in project.run("-P").stderr


def test_each_command_substitution_runs_where_it_is_written(project):
    project.workflow("""\
        FIRST=$(echo x >> calls; wc -l < calls)
        SECOND=$(echo x >> calls; wc -l < calls)
        out.txt <-
          echo $[FIRST] $[SECOND] > $OUTPUT
        """)
    assert project.run().returncode == 0
    assert project.read("out.txt").split() == ["1", "2"]


METHODS_AND_TAGS = """\
load_a()
  echo a > $OUTPUT
load_b()
  echo b > $OUTPUT
tidy()
  echo tidy > $OUTPUT

a.txt, %feed_daily <- [method:load_a]
b.txt, %feed_weekly <- [method:load_b]
c.txt, %report <- [method:tidy]
"""


def test_tags_and_methods_chosen_by_regular_expression(project):
    project.workflow(METHODS_AND_TAGS)
    assert ran(project.run("--json", "%@^feed_")) == [0, 1]
    assert ran(project.run("--json", "@^load_()")) == [0, 1]
    assert ran(project.run("--json", "@ti()")) == [2]
    assert project.run("%@^nothing").stderr.startswith("datamake: error: target not found: %@^nothing")
    preview = checked(project.run("-P", "--json", "--why", "%@weekly").stdout, "preview")
    assert [(s["index"], s["reason"]) for s in preview["steps"]] == [(1, "via tag")]


def test_independent_targets_run_in_command_line_order(project):
    project.workflow("".join(f"{n}.txt <- {d}\n  echo -n {n} >> order\n  echo > $OUTPUT\n"
                             for n, d in [("a", ""), ("b", ""), ("c", "a.txt"), ("d", "")]))
    assert project.run("d.txt", "c.txt", "b.txt").returncode == 0
    assert project.read("order") == "dacb"
    assert project.run("+...").returncode == 0  # one target: file order
    assert project.read("order") == "dacbabcd"

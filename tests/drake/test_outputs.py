"""Outputs as real workflows write them: by name, through $OUTPUT, partly, or not at all."""
from jsonkit import checked, counts


def temps(project):
    return [p.name for p in project.path.rglob("*datamake-tmp*")]


def logs(project):
    return "".join(p.read_text() for p in (project.path / ".datamake" / "logs").rglob("*.log"))


BOOK = "the cat and the dog and the bird\nthe end\n"


def test_a_step_writing_its_target_by_name_succeeds_and_says_so_once_with_why(project):
    project.write("book.txt", BOOK)
    project.workflow("""\
        top-3 <- book.txt
          grep -oE '\\w+' $INPUT | sort | uniq -c | sort -nr | head -n 3 > top-3
        """)
    done = project.run("--why")
    assert done.returncode == 0, done.stderr
    assert project.read("top-3").split()[:2] == ["4", "the"]
    note = "top-3: wrote top-3 by name instead of through $OUTPUT: taken as it is, not atomically"
    assert done.stdout.count(note) == 1 and note in logs(project)
    assert temps(project) == []
    assert project.run("-P").stdout.strip() == "Nothing to do."
    assert note not in project.run("+top-3").stdout  # said with --why only


def test_a_by_name_output_left_as_it_was_is_not_taken_for_a_new_one(project):
    project.write("in.txt", "new\n")
    project.write("out.txt", "old\n")
    project.path.joinpath("out.txt").touch()
    project.workflow("""\
        out.txt, other.txt <- in.txt
          echo other > other.txt
        """)
    done = project.run()
    assert done.returncode == 1
    assert "step did not create its output: out.txt" in done.stderr


def test_a_step_that_makes_none_of_its_outputs_warns_runs_its_dependants_and_runs_again(project):
    project.workflow("""\
        greeting <-
          echo "hello from a step that makes no file"
        after <- greeting
          echo after > $OUTPUT
        """)
    done = project.run("--json")
    assert done.returncode == 0, done.stderr
    assert counts(checked(done.stdout, "build")) == {"ran": [0, 1], "failed": [], "skipped": []}
    assert ("datamake: warning: greeting: the step succeeded but made none of its outputs (greeting); "
            "as in make and Drake this is no failure, but it will run again next time") in done.stderr
    assert "made none of its outputs" in logs(project)
    again = project.run("-P", "--json")
    assert [s["reason"] for s in checked(again.stdout, "preview")["steps"]] == ["missing output", "projected"]


def test_a_scheduled_interval_is_not_done_without_its_outputs(project):
    project.workflow("""\
        %schedule daily start:2026-11-20
        report/$[DATE].csv <-
          echo "forgot to write $OUTPUT"
        """)
    done = project.run("--date", "2026-11-20", "--now", "2026-11-22T00:00:00Z")
    assert done.returncode == 1
    assert ("step did not create its output: report/2026-11-20.csv "
            "(a scheduled interval is done only when its outputs exist)") in done.stderr


def test_optional_inputs_that_are_missing_are_empty(project):
    project.write("here.txt", "here\n")
    project.workflow("""\
        out.txt <- ?absent.txt, here.txt
          echo "[$INPUT0] [$INPUT1] [$INPUTS] [$INPUTN] [$[INPUT0]]" > $OUTPUT
        """)
    assert project.run().returncode == 0
    assert project.read("out.txt") == "[] [here.txt] [here.txt] [2] []\n"

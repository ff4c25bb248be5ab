"""make habits meet datamake: flags typed out of habit get a hint; --list and --clean."""
import os

import pytest
from jsonkit import checked

WORKFLOW = """\
raw.csv <- seed.txt
  cp $INPUT $OUTPUT

clean.csv, %tidy <- raw.csv
  sort $INPUT > $OUTPUT

report.txt, %report <- clean.csv
  wc -l < $INPUT > $OUTPUT

broken.txt <- raw.csv [timout:5m]
  echo never
"""


@pytest.mark.parametrize("args, hint", [
    (["-n"], "make's -n (dry run) is -P (--preview) here"),
    (["-k"], "make's -k is the default here"),
    (["-B"], "make's -B (rebuild everything) is +... here"),
    (["-C", "sub"], "make's -C DIR is -w DIR here"),
    (["YEAR=2026"], "make's VAR=value is --var YEAR=2026 here"),
    (["--dry-run"], "make's -n (dry run) is -P (--preview) here"),
    (["--keep-going"], "make's -k is the default here"),
])
def test_a_make_flag_gets_a_hint_naming_datamakes_way(project, args, hint):
    project.workflow(WORKFLOW)
    done = project.run(*args)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("datamake: error: ") and f"({hint}" in line


def test_j8_without_a_space_is_just_jobs_and_a_real_target_named_like_a_flag_is_no_habit(project):
    project.workflow("k <-\n  echo > $OUTPUT\nn <-\n  echo > $OUTPUT\n")
    done = project.run("-j8", "--json", "k", "n", "-k")
    assert done.returncode == 0, done.stderr
    assert checked(done.stdout, "build")["ran"] == [1]


def test_list_shows_every_step_with_tags_state_and_reason(project):
    project.workflow(WORKFLOW)
    project.write("seed.txt", "b\na\n")
    assert project.run("raw.csv").returncode == 0
    listed = project.run("--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("0  raw.csv <-") and lines[0].endswith("up to date")
    assert lines[1].startswith("1  clean.csv, %tidy <- raw.csv") and lines[1].endswith("will run: missing output")
    assert lines[2].endswith("will run: missing output")
    assert lines[3].startswith("3  broken.txt <- raw.csv") and "broken: Drakefile:10:24: error: unknown option" in lines[3]
    steps = checked(project.run("--list", "--json").stdout, "list")["steps"]
    assert [(s["index"], s["tags"], s["state"], s["reason"]) for s in steps][:3] == [
        (0, [], "up to date", "up to date"), (1, ["tidy"], "will run", "missing output"),
        (2, ["report"], "will run", "missing output")]
    assert steps[3]["state"] == "broken"
    only = checked(project.run("--list", "--json", "%report").stdout, "list")["steps"]
    assert [s["index"] for s in only] == [0, 1, 2]


def test_list_names_a_missing_input_instead_of_stopping(project):
    project.workflow("out.txt <- in.txt\n  cp $INPUT $OUTPUT\nother.txt <-\n  echo > $OUTPUT\n")
    steps = checked(project.run("--list", "--json").stdout, "list")["steps"]
    assert [(s["state"], s["reason"]) for s in steps] == [("blocked", "missing input: in.txt"),
                                                          ("will run", "missing output")]


def test_clean_removes_the_outputs_of_selected_steps_and_forgets_them(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "shared.csv"
    project.workflow(WORKFLOW.replace("broken.txt <- raw.csv [timout:5m]\n  echo never\n",
                                      f"{outside} <- raw.csv\n  cp $INPUT $OUTPUT\n"))
    project.write("seed.txt", "b\na\n")
    assert project.run().returncode == 0
    preview = project.run("--clean", "-P", "=%report")
    assert preview.returncode == 0
    assert preview.stdout.splitlines() == ["would remove: report.txt", "Would remove 1 output(s) of 1 step(s)."]
    assert project.exists("report.txt")
    done = project.run("--clean", "--json")
    assert done.returncode == 0, done.stderr
    result = checked(done.stdout, "clean")
    assert result["removed"] == ["raw.csv", "clean.csv", "report.txt"] and result["forgotten"] == [0, 1, 2, 3]
    assert result["kept"] == [{"name": str(outside), "why": "outside the workflow's directory"}]
    assert not project.exists("raw.csv") and outside.exists() and project.exists("Drakefile")
    # Forgotten: an output made again by hand is judged by timestamps alone, as for a step never run.
    project.write("raw.csv", "b\na\n")
    os.utime(project.path / "seed.txt", (1, 1))
    plan = checked(project.run("-P", "--json").stdout, "preview")["steps"]
    assert [s["index"] for s in plan] == [1, 2, 3]


def test_clean_leaves_remote_outputs_unless_asked_for(project):
    project.workflow("s3://bucket/out.csv <-\n  echo > $OUTPUT\nlocal.txt <-\n  echo > $OUTPUT\n")
    project.write("local.txt", "x\n")
    kept = checked(project.run("--clean", "-P", "--json").stdout, "clean")
    assert kept["removed"] == ["local.txt"]
    assert kept["kept"][0]["name"] == "s3://bucket/out.csv" and kept["kept"][0]["why"].startswith("remote")

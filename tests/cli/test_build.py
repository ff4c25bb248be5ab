"""Rebuild decisions through the real command: each reason, --why, preview, missing inputs."""
import os
from jsonkit import checked, counts

OLD, NEW = 1_000_000, 2_000_000


def age(project, name, when):
    os.utime(project.path / name, (when, when))


def reasons(project, *args):
    done = project.run("-P", "--json", *args)
    assert done.returncode == 0, done.stderr
    return {s["index"]: s["reason"] for s in checked(done.stdout, "preview")["steps"]}


TWO_STEPS = """\
mid.txt <- in.txt
  cat $INPUT > $OUTPUT
out.txt <- mid.txt
  cat $INPUT > $OUTPUT
"""


def test_missing_output_then_up_to_date(project):
    project.workflow(TWO_STEPS)
    project.write("in.txt", "x\n")
    assert reasons(project) == {0: "missing output", 1: "missing output"}
    done = project.run("--json")
    assert done.returncode == 0
    assert counts(checked(done.stdout, "build")) == {"ran": [0, 1], "failed": [], "skipped": []}
    assert project.read("out.txt") == "x\n"
    assert project.run("-P").stdout == "Nothing to do.\n"


def test_timestamped_projected_and_why(project):
    project.workflow(TWO_STEPS)
    project.write("in.txt", "x\n")
    project.write("mid.txt", "old\n")
    project.write("out.txt", "old\n")
    age(project, "mid.txt", OLD)
    age(project, "out.txt", OLD + 10)
    assert reasons(project) == {0: "timestamped", 1: "projected"}
    preview = project.run("-P")
    assert preview.stdout == ("The following steps will be run, in order:\n"
                              "  1: mid.txt <- in.txt [timestamped]\n"
                              "  2: out.txt <- mid.txt [projected]\n")
    why = project.run("-P", "--why").stdout
    assert "newest input in.txt (" in why and ") > oldest output mid.txt (" in why
    assert "upstream step mid.txt will run first" in why
    assert project.read("mid.txt") == "old\n"  # a preview runs nothing
    assert project.run().returncode == 0 and project.read("out.txt") == "x\n"


def test_no_input_step_runs_every_time_and_timecheck_off_does_not(project):
    project.workflow("""\
        stamp.txt <-
          date +%s%N > $OUTPUT
        once.txt <- [-timecheck]
          echo once > $OUTPUT
        """)
    assert project.run().returncode == 0
    assert reasons(project) == {0: "no-input step"}


def test_forced_via_tag_via_method(project):
    project.workflow("""\
        m() [shell]
          echo m > $OUTPUT
        a.txt, %t <-
          echo a > $OUTPUT
        b.txt <- [method:m -timecheck]
        """)
    assert project.run().returncode == 0
    assert reasons(project, "+=a.txt") == {0: "forced"}
    assert reasons(project, "%t") == {0: "via tag"}
    assert reasons(project, "m()") == {1: "via method"}


def test_command_changed(project):
    project.workflow(TWO_STEPS)
    project.write("in.txt", "x\n")
    assert project.run().returncode == 0
    project.workflow(TWO_STEPS.replace("cat $INPUT > $OUTPUT\nout", "tr x y < $INPUT > $OUTPUT\nout"))
    assert reasons(project) == {0: "command changed", 1: "projected"}
    assert "body or options differ from the last success" in project.run("-P", "--why").stdout


def test_hash_mode_content_changed_and_early_cutoff(project):
    project.workflow("""\
        first.txt <- in.txt [check:hash]
          cut -c1 $INPUT > $OUTPUT
        copy.txt <- first.txt [check:hash]
          cat $INPUT > $OUTPUT
          echo ran >> runs.log
        """)
    project.write("in.txt", "ab\n")
    assert project.run().returncode == 0
    os.utime(project.path / "in.txt", (NEW, NEW))  # touched, same bytes
    assert reasons(project) == {}
    project.write("in.txt", "ac\n")  # first.txt will come out the same: early cutoff
    assert reasons(project) == {0: "content changed", 1: "projected"}
    done = project.run("--json")
    assert checked(done.stdout, "build")["ran"] == [0]
    assert project.read("runs.log") == "ran\n"


def test_missing_input_exits_2_before_running_anything(project):
    project.workflow("""\
        first.txt <-
          echo 1 > $OUTPUT
        out.txt <- absent.txt, ?maybe.txt
          cat $INPUT > $OUTPUT
        """)
    done = project.run()
    assert done.returncode == 2
    assert done.stderr == "datamake: error: missing input: absent.txt (needed by step out.txt at Drakefile:3:1)\n"
    assert not project.exists("first.txt")


def test_preview_runs_shell_substitutions_once(project):
    project.workflow("""\
        X=$(echo tick >> ticks.txt; echo x)
        out.txt <-
          echo $[X] > $OUTPUT
        """)
    assert project.run("-P").returncode == 0
    assert project.read("ticks.txt") == "tick\n"
    assert not project.exists("out.txt")
    assert not project.exists(".datamake/state.db")

"""Drake's own regression scenarios (the ones needing no Hadoop, R or Clojure), rewritten for datamake.

Each runs in the Drake-compatible mode (`--drake`, or `[+drake]` on a step) with the outcome Drake
expects; where datamake's default mode differs, the test shows that too.
"""
import os
from pathlib import Path
from jsonkit import checked, counts


def ran(done) -> list[int]:
    assert done.returncode in (0, 1), done.stderr
    return checked(done.stdout, "build")["ran"]


def age(project, *, newer: tuple[str, ...] = ()) -> None:
    """Every file at one old time (equal times are up to date), then `newer` ones later: no sleeping."""
    for path in project.path.rglob("*"):
        if path.is_file() and ".datamake" not in path.parts:
            os.utime(path, (1_000_000, 1_000_000))
    for name in newer:
        os.utime(project.path / name, (2_000_000, 2_000_000))


def test_order_one_job_at_a_time_is_file_order(project):
    chain = "\n".join(f"{name} <- {dep}\n  echo -n {name} >> order\n  echo -n $OUTPUT > $OUTPUT"
                      for name, dep in [("f1", ""), ("f2", "f1"), ("f3", "f2"), ("g1", ""), ("g2", "g1"),
                                        ("g3", "g2"), ("h1", "")])
    project.workflow(chain + "\n")
    assert project.run("--drake", "-j", "1").returncode == 0
    assert project.read("order") == "f1f2f3g1g2g3h1"
    assert project.read("f2") == "f2"  # $OUTPUT is the real name


def test_steps_run_side_by_side_with_more_jobs(project):
    # Each side can only finish while the other runs: a deadlock (then a timeout) unless two run at once.
    project.workflow("""\
        left <- [timeout:20s]
          until [ -e right.started ]; do sleep 0.02; done
          echo -n left >> order
          echo left > $OUTPUT
        right <- [timeout:20s]
          touch right.started
          until [ -e left ]; do sleep 0.02; done
          echo -n right >> order
          echo right > $OUTPUT
        both <- left, right
          cat $INPUTS > $OUTPUT
        """)
    done = project.run("--drake", "-j", "2")
    assert done.returncode == 0, done.stderr
    assert project.read("order") == "leftright" and project.read("both") == "left\nright\n"


def test_variables_inside_command_substitution(project):
    project.workflow("""\
        WHO="world"
        PLAIN=$(echo -$[WHO]-)
        DOUBLE=$(echo -"$[WHO]"-)
        SINGLE=$(echo -'$[WHO]'-)
        NESTED=$(echo -"$(echo $[WHO] | wc -c)"-)
        said.txt <-
            echo $PLAIN/$DOUBLE/$SINGLE/$NESTED > $OUTPUT
        """)
    assert project.run("--drake").returncode == 0
    assert project.read("said.txt") == "-world-/-world-/-$[WHO]-/-6-\n"


FS = """\
STORE=store
BASE=$[STORE]

merged_store <- part_1, part_2
  TMP=$(mktemp)
  cat $[INPUTS] > $TMP
  rm -r $OUTPUT >/dev/null 2>/dev/null
  cp $TMP $OUTPUT
  rm $TMP

BASE=""

merged_local <- local_1, local_2
  cat $[INPUTS] > $OUTPUT

merged <- merged_local, $[STORE]/merged_store
  (cat $INPUT0; cat $INPUT1) > $OUTPUT

error <- merged
  this-is-not-a-command
"""


def test_file_system_rebuilds_follow_timestamps(project):
    project.workflow(FS)
    for name, text in [("store/part_1", "S1"), ("store/part_2", "S2"), ("local_1", "L1"), ("local_2", "L2")]:
        project.write(name, text)
    # The body starts with an expected failure (`rm -r` of a missing output): only Drake's mode lets it go on.
    strict = project.run("--json", "=store/merged_store")
    assert strict.returncode == 1 and "merged_store (exit 1)" in strict.stderr
    assert ran(project.run("--drake", "--json", "merged")) == [0, 1, 2]
    assert project.read("merged") == "L1L2S1S2"
    steps = [("merged_local", "LL", [2], "LLS1S2"), ("store/merged_store", "SS", [2], "LLSS"),
             ("store/part_2", "s2", [0, 2], "LLS1s2"), ("local_2", "l2", [1, 2], "L1l2S1s2")]
    for name, text, expected, merged in steps:
        project.write(name, text)
        age(project, newer=(name,))
        assert ran(project.run("--drake", "--json", "merged")) == expected, name
        assert project.read("merged") == merged
    failed = project.run("--drake", "--json")
    assert failed.returncode == 1 and checked(failed.stdout, "build")["failed"] == [3]


INPUTS_OUTPUTS = """\
made <-
  touch $[OUTPUT]

needs_made <- made
  echo Inputs: $[INPUTS]
  echo should not happen > $[OUTPUT]

last <- needs_made
  # nothing: this step makes no file
"""


def test_a_missing_input_stops_before_anything_runs(project):
    project.workflow(INPUTS_OUTPUTS)
    for targets in (["=needs_made"], ["=needs_made"], ["last", "-made"]):
        done = project.run("--drake", *targets)
        assert done.returncode == 2
        assert done.stderr.startswith("datamake: error: missing input: made")
        assert not project.exists("needs_made") or project.read("needs_made") == ""
        project.write("needs_made", "")  # the second time, with the output already there
    done = project.run("--drake", "--json", "last")
    assert ran(done) == [0, 1, 2] and "warning" not in done.stderr
    assert project.read("needs_made") == "should not happen\n"


STDOUT = """\
test1 <- Drakefile
  echo output: $OUTPUT
  echo STDOUT IS HERE
  echo STDERR IS HERE >/dev/stderr
  echo ANOTHER STDOUT

test2 <- Drakefile
  read input
  echo "User input: $input"

test3 <- Drakefile
  while read input; do echo "[$input]"; done
"""


def test_stdout_stderr_and_stdin_reach_the_step(project):
    project.workflow(STDOUT)
    done = project.run("--drake", "test1")
    assert done.returncode == 0, done.stderr
    assert "output: test1\nSTDOUT IS HERE\nANOTHER STDOUT\n" in done.stdout
    assert "STDERR IS HERE" in done.stderr and "STDERR IS HERE" not in done.stdout
    assert "User input: bla1" in project.run("--drake", "test2", input="bla1\n").stdout
    piped = project.run("--drake", "test3", input=STDOUT)
    assert "[test2 <- Drakefile]" in piped.stdout and "[test1 <- Drakefile]" in piped.stdout


TARGET_CHECK = """\
first.txt <-
  echo "$OUTPUT" > $OUTPUT

second.txt <- first.txt
  echo "$OUTPUT" > $OUTPUT
  echo "third.txt" > third.txt

third.txt <- first.txt
  echo "$OUTPUT" > $OUTPUT

fourth.txt <- second.txt, third.txt
  cat $INPUTS > $OUTPUT
  echo "$OUTPUT" > $OUTPUT
"""


def test_a_target_built_by_another_step_is_built_again_by_its_own(project):
    project.workflow(TARGET_CHECK)
    assert project.run("--drake").returncode == 0
    for name in ("first.txt", "second.txt", "third.txt", "fourth.txt"):
        assert project.read(name) == name + "\n"


def test_drake_semantics_for_one_step_only(project):
    project.workflow("""\
        kept.txt <- [+drake]
          rm $OUTPUT 2>/dev/null
          echo "$OUTPUT" > $OUTPUT
        strict.txt <-
          rm $OUTPUT 2>/dev/null
          echo "$OUTPUT" > $OUTPUT
        """)
    done = project.run("--json")
    assert counts(checked(done.stdout, "build")) == {"ran": [0], "failed": [1], "skipped": []}
    assert project.read("kept.txt") == "kept.txt\n"
    opted_out = Path(project.workflow(TARGET_CHECK.replace("first.txt <-", "first.txt <- [-drake]")))
    assert opted_out.exists() and project.run("--drake").returncode == 0
    assert project.read("first.txt").endswith(".first.datamake-tmp.txt\n")

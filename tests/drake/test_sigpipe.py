"""A reader leaving a pipeline early (`| head`) is no failure; every other failing command still is."""
import random
import subprocess
from jsonkit import checked, counts


def words(count: int, distinct: int) -> str:
    """Enough distinct lines that `uniq -c | sort -nr` writes far more than a pipe holds."""
    rng = random.Random(7)
    return "".join(f"word{rng.randrange(distinct)}\n" for _ in range(count))


TOP5 = "sort $INPUT | uniq -c | sort -nr | head -n 5 > $OUTPUT"


def test_the_top_five_pipeline_succeeds_twenty_times_in_a_row(project):
    project.write("words.txt", words(60000, 30000))
    # The same pipeline under plain `bash -e -o pipefail` dies of SIGPIPE: the input is big enough.
    plain = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", TOP5.replace("$INPUT", "words.txt")
                            .replace("$OUTPUT", "/dev/null")], cwd=project.path)
    assert plain.returncode == 141
    project.workflow("".join(f"top-{i} <- words.txt\n  {TOP5}\n" for i in range(20)))
    done = project.run("--json")
    assert done.returncode == 0, done.stderr
    assert checked(done.stdout, "build")["ran"] == list(range(20))
    counts = [project.read(f"top-{i}") for i in range(20)]
    assert len(counts[0].splitlines()) == 5 and counts == [counts[0]] * 20


def test_any_other_failing_command_of_a_pipeline_still_fails_the_step(project):
    project.write("words.txt", words(20000, 20000))
    project.workflow("""\
        a.txt <- words.txt
          sort $INPUT | head -n 1 > $OUTPUT
          cat missing.txt | head -n 1 > $OUTPUT
          echo not reached > $OUTPUT
        b.txt <- words.txt
          sort $INPUT | false | head -n 1 > $OUTPUT
        c.txt <- words.txt
          sort $INPUT | head -n 1 | grep nothing-like-this > $OUTPUT
        """)
    done = project.run("--json")
    assert done.returncode == 1
    assert checked(done.stdout, "build")["failed"] == [0, 1, 2]
    assert "a.txt (exit 1)" in done.stderr and "b.txt (exit 1)" in done.stderr and "c.txt (exit 1)" in done.stderr


def test_after_a_forgiven_pipeline_a_failing_command_still_stops_the_body(project):
    project.write("words.txt", words(20000, 20000))
    project.workflow("""\
        out.txt <- words.txt
          top() { sort $INPUT | head -n 2; }
          first=$(sort $INPUT | head -n 1)
          top > $OUTPUT
          echo "$first" >> $OUTPUT
          false
          echo not reached >> $OUTPUT
        last.txt <- words.txt
          top() { sort $INPUT | head -n 2; }
          top > $OUTPUT
          sort $INPUT | head -n 3 > /dev/null
        """)
    done = project.run("--json")
    assert counts(checked(done.stdout, "build")) == {"ran": [1], "failed": [0], "skipped": []}
    assert "out.txt (exit 1)" in done.stderr
    assert len(project.read("last.txt").splitlines()) == 2


def test_a_step_still_killed_by_sigpipe_names_it_and_the_fix(project):
    project.workflow("""\
        out.txt <-
          echo started > $OUTPUT
          sh -c 'kill -PIPE $$'
        """)
    done = project.run()
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert "out.txt (exit 141: killed by SIGPIPE" in last and "|| [ $? -eq 141 ]" in last

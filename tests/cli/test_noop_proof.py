"""A repeated command with nothing to do is answered from one stat per file, and only then.

Whether the proof answered is seen from outside: `python -X importtime` names every module the
command imported, and the answer imports no part of the workflow language.
"""
import fcntl
import os
import subprocess
import sys

from conftest import ROOT

PIPELINE = """\
    mid.txt <- in.txt
      cp $INPUT $OUTPUT
    out.txt <- mid.txt
      cat $INPUT > $OUTPUT
    """


def run_seen(project, *args, env=None):
    """(completed process, whether the workflow language was loaded) of `datamake ARGS`."""
    full_env = dict(os.environ, PYTHONPATH=str(ROOT))
    full_env.pop("COLUMNS", None)
    full_env.update(env or {})
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "datamake", *args], cwd=project.path,
                          env=full_env, capture_output=True, text=True, timeout=60)
    loaded = "datamake.language" in done.stderr
    done.modules = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    done.stderr = "".join(line for line in done.stderr.splitlines(keepends=True) if not line.startswith("import time:"))
    return done, loaded


def built_pattern(project):
    """A pattern step over raw/*.csv, built once."""
    project.workflow("""\
        clean/{city}.csv <- raw/{city}.csv
          cp $INPUT $OUTPUT
        """)
    assert run_seen(project)[0].returncode == 0


def built(project, *args, env=None):
    project.write("in.txt", "one\n")
    project.workflow(PIPELINE)
    done, _ = run_seen(project, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done


def test_a_repeated_no_op_is_answered_without_loading_the_workflow_and_says_the_same(project):
    built(project)
    done, loaded = run_seen(project)
    assert (done.returncode, done.stdout, done.stderr, loaded) == (0, "Nothing to do.\n", "", False)
    state = (project.path / ".datamake" / "state.db").read_bytes()
    done, loaded = run_seen(project, "-q")  # another command decides in full once, then is answered too
    assert (done.returncode, done.stdout, done.stderr, loaded) == (0, "", "", True)
    for jobs in (["-j", "3"], ["-j2"], ["--jobs=4"]):  # how many run at once changes no decision
        done, loaded = run_seen(project, "-q", *jobs)
        assert (done.returncode, done.stdout, done.stderr, loaded) == (0, "", "", False)
    assert (project.path / ".datamake" / "state.db").read_bytes() == state  # a no-op records nothing


def test_each_kind_of_change_is_decided_in_full(project):
    built(project)
    changes = [
        lambda: project.write("in.txt", "two\n"),  # an input
        lambda: (project.path / "out.txt").unlink(),  # an output gone
        lambda: project.workflow(PIPELINE.replace("cat $INPUT", "cat  $INPUT")),  # the workflow's text
        lambda: project.write("datamake.cfg", "[defaults]\njobs = 2\n"),  # the config beside it
    ]
    for change in changes:
        assert run_seen(project)[1] is False
        change()
        done, loaded = run_seen(project)
        assert done.returncode == 0 and loaded, done.stderr
    assert project.read("out.txt") == "two\n"


def test_a_rewrite_of_the_workflow_keeping_its_stat_is_still_seen(project):
    built(project)
    path = project.path / "Drakefile"
    before = path.stat()
    path.write_text(path.read_text().replace("mid.txt <- in.txt", "mid.txt <- in.tx_"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_ino) == (before.st_size, before.st_ino)
    done, loaded = run_seen(project)
    assert loaded and done.returncode != 0 and "in.tx_" in done.stderr


def test_the_environment_the_workflow_reads_is_part_of_the_proof(project):
    project.write("in.txt", "x\n")
    project.workflow("""\
        out.txt <- in.txt
          echo $[GREETING] > $OUTPUT
        """)
    assert run_seen(project, env={"GREETING": "hello"})[0].returncode == 0
    assert run_seen(project, env={"GREETING": "hello"})[1] is False
    done, loaded = run_seen(project, env={"GREETING": "bonjour"})
    assert loaded and done.returncode == 0 and project.read("out.txt") == "bonjour\n"


def test_a_pattern_step_with_a_new_file_is_decided_in_full(project):
    project.write("raw/a.csv", "a\n")
    built_pattern(project)
    assert run_seen(project)[1] is False
    project.write("raw/b.csv", "b\n")
    done, loaded = run_seen(project)
    assert loaded and done.returncode == 0 and project.read("clean/b.csv") == "b\n"
    assert run_seen(project)[1] is False


def test_a_workflow_that_runs_a_command_to_evaluate_is_always_decided_in_full(project):
    project.write("in.txt", "x\n")
    project.workflow("""\
        SOURCE=$(echo in.txt)
        out.txt <- $[SOURCE]
          cp $INPUT $OUTPUT
        """)
    assert run_seen(project)[0].returncode == 0
    done, loaded = run_seen(project)
    assert loaded and done.returncode == 0


def test_a_held_state_directory_is_reported_as_the_full_command_would(project):
    built(project)
    assert run_seen(project)[1] is False
    with open(project.path / ".datamake" / "lock", "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done, loaded = run_seen(project)
    assert loaded and done.returncode == 2 and "holds" in done.stderr


def test_hash_mode_proves_a_no_op_only_once_files_are_past_the_racy_window(project):
    built(project, "--check", "hash")
    assert run_seen(project, "--check", "hash")[1] is True  # outputs seconds old: their stat is not trusted yet
    old = 1_700_000_000_000_000_000
    for name in ("in.txt", "mid.txt", "out.txt"):
        os.utime(project.path / name, ns=(old, old))
    done, loaded = run_seen(project, "--check", "hash")
    assert loaded and done.returncode == 0 and done.stdout == "Nothing to do.\n"
    assert run_seen(project, "--check", "hash")[1] is False


def test_a_proof_that_cannot_be_written_costs_nothing_but_speed(project):
    project.write("in.txt", "one\n")
    project.workflow(PIPELINE)
    project.write(".datamake/noop", "a file where the proofs' folder would go\n")
    for _ in range(2):
        done, loaded = run_seen(project)
        assert (done.returncode, done.stderr, loaded) == (0, "", True)
    assert done.stdout == "Nothing to do.\n" and project.read("out.txt") == "one\n"


def test_a_directory_target_is_always_decided_in_full(project):
    project.write("in.txt", "x\n")
    project.workflow("""\
        parts <- in.txt
          mkdir -p $OUTPUT && cp $INPUT $OUTPUT/one.txt
        """)
    assert run_seen(project)[0].returncode == 0
    done, loaded = run_seen(project)  # a folder's stamp is its newest file's: more than one stat to prove
    assert loaded and done.returncode == 0 and done.stdout == "Nothing to do.\n"


def test_a_command_with_hooks_always_decides_in_full(project):
    built(project)
    for _ in range(2):
        done, loaded = run_seen(project, "--on-start", "echo ran >> hooks.log")
        assert loaded and done.returncode == 0


def test_a_pattern_folder_is_vouched_for_by_its_stat_once_it_is_old(project):
    project.write("raw/a.csv", "a\n")
    project.write("raw/b.csv", "b\n")
    hour_ago = os.stat(project.path / "raw").st_mtime_ns - 3600 * 10**9
    os.utime(project.path / "raw", ns=(hour_ago, hour_ago))
    built_pattern(project)
    done, loaded = run_seen(project)
    assert (done.stdout, loaded, "glob" in done.modules) == ("Nothing to do.\n", False, False)  # one stat, no listing
    (project.path / "raw" / "a.csv").unlink()  # the folder's mtime moves: decided in full
    done, loaded = run_seen(project)
    assert loaded and done.returncode == 0
    project.write("raw/c.csv", "c\n")
    done, loaded = run_seen(project)
    assert loaded and done.returncode == 0 and project.read("clean/c.csv") == "c\n"


def test_a_folder_changed_within_its_clock_tick_is_still_listed(project):
    project.write("raw/a.csv", "a\n")
    built_pattern(project)
    done, loaded = run_seen(project)
    assert (loaded, "glob" in done.modules) == (False, True)  # the folder is new: its names are listed
    before = os.stat(project.path / "raw")
    project.write("raw/b.csv", "b\n")
    os.utime(project.path / "raw", ns=(before.st_atime_ns, before.st_mtime_ns))  # as if within the same tick
    done, loaded = run_seen(project)
    assert loaded and done.returncode == 0 and project.read("clean/b.csv") == "b\n"

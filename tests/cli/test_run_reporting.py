"""What a run shows: --why evidence, interrupted steps, -q, --json, exit 1 lines, rich progress on a terminal."""
import os
import pty
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from jsonkit import checked, counts

CHAIN = """\
    a.txt <- in.txt
      cut -c1 $INPUT > $OUTPUT
    b.txt <- a.txt
      cp $INPUT $OUTPUT
    """


def built_chain(project, *args):
    project.workflow(CHAIN)
    project.write("in.txt", "xy\n")
    assert project.run(*args).returncode == 0
    for name in ("a.txt", "b.txt"):  # outputs older than in.txt, whatever the clock did
        os.utime(project.path / name, (1000, 1000))
    return project


def test_why_with_a_run_shows_each_decision_and_the_recheck(project):
    built_chain(project)
    out = project.run("--why").stdout.splitlines()
    assert out[0].startswith("--- 0. a.txt: timestamped: newest input in.txt (")
    assert " > oldest output a.txt (" in out[0]
    assert out[1] == "--- 1. b.txt: projected: upstream step a.txt will run first"
    recheck = [line for line in out if "re-checked" in line]
    assert len(recheck) == 1 and recheck[0].startswith("--- 1. b.txt: re-checked: timestamped: newest input a.txt (")
    assert out.index(recheck[0]) == out.index("--- 1. Running (timestamped): b.txt") - 1
    assert out[-1] == "Done (2 steps run)."


def test_why_shows_the_evidence_of_an_early_cutoff(project):
    built_chain(project, "--check", "hash")
    project.write("in.txt", "xz\n")  # a.txt comes out the same: b.txt is skipped
    out = project.run("--check", "hash", "--why").stdout.splitlines()
    assert out[0].startswith("--- 0. a.txt: content changed: in.txt: recorded ")
    assert "--- 1. Skipped (up to date: inputs have the content recorded at the last success): b.txt" in out
    project.write("in.txt", "xw\n")
    assert "--- 1. Skipped (up to date): b.txt" in project.run("--check", "hash").stdout.splitlines()


def test_preview_why_json_gives_reasons_and_evidence(project):
    built_chain(project)
    os.utime(project.path / "b.txt", (2000, 2000))
    os.utime(project.path / "in.txt", (500, 500))
    project.write("Drakefile", CHAIN.replace("cp", "cat"))
    plain = checked(project.run("-P", "--json").stdout, "preview")
    assert plain == {"schema": 1, "steps": [{"index": 1, "label": "b.txt", "outputs": ["b.txt"], "inputs": ["a.txt"],
                                             "tags": [], "reason": "command changed"}]}
    data = checked(project.run("-P", "--why", "--json").stdout, "preview")
    [step] = data["steps"]
    assert step["reason"] == "command changed" and step["evidence"].startswith("body or options differ")
    [fresh] = data["up_to_date"]
    assert fresh["index"] == 0 and fresh["reason"] == "up to date"
    assert fresh["evidence"].startswith("newest input in.txt (") and "<= oldest output a.txt (" in fresh["evidence"]


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_an_interrupted_step_gets_its_line_before_the_error(project, quiet):
    project.workflow("""\
        out.txt <- in.txt
          touch started
          sleep 30
          cp $INPUT $OUTPUT
        """)
    project.write("in.txt", "1\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "datamake", *quiet], cwd=project.path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while not project.exists("started") and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, out
    assert out.splitlines()[-2:] == ["--- 0: out.txt -> interrupted", "datamake: error: interrupted by SIGINT"]


FAILING = """\
    a.txt <- in.txt
      echo making a
      cp $INPUT $OUTPUT
    b.txt <- a.txt
      echo broken >&2
      exit 4
    c.txt <- in.txt
      exit 5
    d.txt <- b.txt
      touch $OUTPUT
    """


def test_exit_1_names_every_failed_step_in_one_error_line(project):
    project.workflow(FAILING)
    project.write("in.txt", "1\n")
    done = project.run()
    assert done.returncode == 1
    assert "making a" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("datamake: error:")]
    assert errors == ["datamake: error: 2 steps failed: b.txt (exit 4), c.txt (exit 5)"]


def test_quiet_prints_only_the_failures(project):
    project.workflow(FAILING)
    project.write("in.txt", "1\n")
    done = project.run("-q")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "--- 1: b.txt -> FAILED (exit 4)", "    broken", "--- 2: c.txt -> FAILED (exit 5)",
        "datamake: error: 2 steps failed: b.txt (exit 4), c.txt (exit 5)"]
    project.write("Drakefile", FAILING.split("b.txt")[0])
    again = project.run("-q")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def test_json_run_prints_one_line_and_nothing_to_do_previews_say_so(project):
    project.workflow(FAILING)
    project.write("in.txt", "1\n")
    done = project.run("--json")
    assert done.returncode == 1 and len(done.stdout.splitlines()) == 1
    data = checked(done.stdout, "build")
    assert counts(data) == {"ran": [0], "failed": [1, 2], "skipped": [3]} and data["ok"] is False
    a, b, c, d = data["steps"]
    assert (a["label"], a["outputs"], a["inputs"], a["reason"], a["outcome"], a["exit"]) == (
        "a.txt", ["a.txt"], ["in.txt"], "missing output", "success", 0)
    assert open(a["log"]).read() == "making a\n" and 0 <= a["duration"] < 30 and a["interval"] is None
    assert (b["outcome"], b["exit"], c["exit"]) == ("failed", 4, 5) and b["log"].endswith(".log")
    assert (d["outcome"], d["error"], d["start"]) == ("skipped", "upstream step b.txt failed", None)
    project.write("Drakefile", FAILING.split("b.txt")[0])
    again = project.run("--json")
    assert again.stdout == '{"schema": 1, "ran": [], "failed": [], "skipped": [], "ok": true, "steps": []}\n'
    assert project.run("-P").stdout == "Nothing to do.\n"
    assert project.run().stdout == "Nothing to do.\n"


def run_on_terminal(project, *args) -> str:
    """Run datamake with stdout and stderr on a pseudo-terminal; returns all it wrote."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm-256color")
    env.pop("COLUMNS", None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "datamake", *args], cwd=project.path, env=env,
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_the_progress_display_and_a_pipe_plain_lines(project):
    project.workflow(CHAIN)
    project.write("in.txt", "xy\n")
    shown = run_on_terminal(project)
    assert "2/2" in shown and "━" in shown and "\x1b[" in shown
    assert "--- 1: b.txt -> done in" in shown and "Done (2 steps run)." in shown
    os.utime(project.path / "in.txt", (3_000_000_000, 3_000_000_000))
    piped = project.run()
    assert "━" not in piped.stdout and "\x1b" not in piped.stdout
    assert piped.stdout.splitlines()[0] == "--- 0. Running (timestamped): a.txt"

"""`datamake --graph` in dot, mermaid, text, svg and png on real workflows, before and after real runs."""
from __future__ import annotations

import os
import re
import shutil

import pytest

WORKFLOW = """\
    raw.csv <-
      printf 'b\\na\\n' > $OUTPUT

    clean.csv <- raw.csv
      sort $INPUT > $OUTPUT

    bad.csv <- raw.csv
      echo "this step breaks"; exit 3

    report.txt, %report <- clean.csv
      wc -l < $INPUT > $OUTPUT
    """

NODE = re.compile(r'^  "([^"]*)" \[.*label="([^"]*)".*\];$', re.M)
EDGE = re.compile(r'^  "([^"]*)" -> "([^"]*)";$', re.M)


def dot_steps(text: str) -> dict[str, str]:
    """Step label -> state line, from the dot output's step nodes."""
    return dict(label.split("\\n", 1) for nid, label in NODE.findall(text) if re.fullmatch(r"s\d+", nid))


def test_dot_to_stdout_before_anything_ran(project):
    project.workflow(WORKFLOW)
    done = project.run("--graph")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("digraph ")
    assert dot_steps(done.stdout) == {"raw.csv": "will run: missing output", "clean.csv": "will run: missing output",
                                      "bad.csv": "will run: missing output",
                                      "report.txt, %report": "will run: missing output"}
    edges = EDGE.findall(done.stdout)
    raw = f"f:{project.path / 'raw.csv'}"
    assert ("s0", raw) in edges and (raw, "s1") in edges and (raw, "s2") in edges and ("s3", "t:report") in edges
    assert not project.exists(".datamake")  # drawing never creates state


def test_states_follow_the_last_run(project):
    project.workflow(WORKFLOW)
    assert project.run("-j", "2").returncode == 1
    done = project.run("--graph", "dot")
    assert dot_steps(done.stdout) == {"raw.csv": "will run: no-input step", "clean.csv": "will run: projected",
                                      "bad.csv": "failed last run, will run: missing output",
                                      "report.txt, %report": "will run: projected"}
    # Only the steps below clean.csv, all made: up to date, until an input changes.
    assert dot_steps(project.run("--graph", "clean.csv", "^clean.csv", "-raw.csv").stdout) == {
        "clean.csv": "up to date", "report.txt, %report": "up to date"}
    stamp = os.stat(project.path / "clean.csv").st_mtime
    os.utime(project.path / "raw.csv", (stamp + 10, stamp + 10))
    assert dot_steps(project.run("--graph", "=clean.csv").stdout) == {"clean.csv": "will run: timestamped"}


def test_mermaid_marks_states_with_classes(project):
    project.workflow(WORKFLOW)
    project.run("=raw.csv", "=bad.csv")
    done = project.run("--graph", "mermaid", "=raw.csv", "=bad.csv", "=clean.csv")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    steps = [line for line in lines if "<br/>" in line]
    assert [re.sub(r"^  n\d+", "", line) for line in steps] == [
        '["raw.csv<br/>will run: no-input step"]:::willRun',  # independent steps in command-line order
        '["bad.csv<br/>failed last run, will run: missing output"]:::failed',
        '["clean.csv<br/>will run: missing output"]:::willRun']
    assert sum(" --> " in line for line in lines) == 5


def test_text_draws_layers_in_the_terminal(project):
    project.workflow(WORKFLOW)
    project.run("=raw.csv", "=clean.csv")
    project.write("bad.csv", "made by hand\n")  # up to date by the rules, but datamake never ran it
    stamp = os.stat(project.path / "raw.csv").st_mtime
    for name in ("clean.csv", "bad.csv"):
        os.utime(project.path / name, (stamp + 10, stamp + 10))
    done = project.run("--graph", "text", "=report.txt", "=bad.csv", "=clean.csv")
    assert done.stdout == (
        f"{project.path.name}: 3 steps (1 will run, 1 up to date, 1 never run)\n"
        "    1 · bad.csv <- raw.csv  [never run]\n"
        "    1 ✓ clean.csv <- raw.csv  [up to date]\n"
        "    2 ▶ report.txt, %report <- clean.csv  [will run: missing output]\n")


@pytest.mark.parametrize("name, start", [
    ("g.dot", "digraph "), ("g.mmd", "flowchart LR"), ("g.txt", "{name}: 4 steps"), ("g.html", "<!DOCTYPE html>"),
])
def test_output_file_format_from_its_extension(project, name, start):
    project.workflow(WORKFLOW)
    done = project.run("--graph", "-o", name)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert project.read(name).startswith(start.format(name=project.path.name))


def test_a_named_format_wins_over_the_extension(project):
    project.workflow(WORKFLOW)
    assert project.run("--graph", "mermaid", "-o", "graph.txt").returncode == 0
    assert project.read("graph.txt").startswith("flowchart LR\n")


@pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz not installed")
def test_svg_and_png_through_graphviz(project):
    project.workflow(WORKFLOW)
    svg = project.run("--graph", "svg")
    assert svg.returncode == 0 and "<svg" in svg.stdout and "will run: missing output" in svg.stdout
    assert project.run("--graph", "-o", "g.png").returncode == 0
    assert (project.path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_without_graphviz(project, tmp_path):
    project.workflow(WORKFLOW)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    done = project.run("--graph", "svg", env={"PATH": str(empty)})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "datamake: error: --graph svg needs Graphviz's 'dot' program (apt-get install graphviz)\n"


def test_errors_are_one_line(project):
    project.workflow(WORKFLOW)
    done = project.run("--graph", "-o", "graph.pdf")
    assert done.returncode == 2
    assert done.stderr.startswith("datamake: error: cannot tell the graph format from 'graph.pdf'")
    done = project.run("--graph", "nosuch.csv")
    assert done.returncode == 2 and done.stderr.startswith("datamake: error: target not found: nosuch.csv")
    assert "Traceback" not in done.stderr


def big_workflow(project, n=2000):
    project.workflow("".join(f"d/{i}.csv <- {f'd/{i - 1}.csv, d/{i // 2}.csv' if i else ''}\n  echo {i} > $OUTPUT\n\n"
                             for i in range(n)))


def test_two_thousand_steps_in_text_stay_short(project):
    big_workflow(project)
    done = project.run("--graph", "text", timeout=60)
    lines = done.stdout.splitlines()
    assert lines[0] == f"{project.path.name}: 2000 steps (2000 will run)"
    assert len(lines) == 302
    assert lines[-1] == "… 1700 more steps not shown; draw them all with --graph html -o graph.html"

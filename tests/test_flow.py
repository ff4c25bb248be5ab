"""Workflows written in Python (datamake.Flow): shell and callable steps, run in child processes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import datamake
from datamake.errors import DatamakeError
from jsonkit import checked

# Callables must be importable by the child process: they live in a module file the test writes.
STEPS_MODULE = '''
import os, time

def upper(step):
    with open(step.output, "w") as out:
        out.write(open(step.input).read().upper())
    with open("calls.log", "a") as log:
        log.write(step.output + "\\n")

def merge(step):
    with open(step.output, "w") as out:
        for name in step.inputs:
            out.write(open(name).read())

def half_then_fail(step):
    with open(step.output, "w") as out:
        out.write("half")
    raise RuntimeError("bad rows in " + step.input)

def sleepy(step):
    with open("sleepy.pid", "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)

def city(step):
    with open(step.output, "w") as out:
        out.write(step.vars["city"] + ":" + open(step.input).read())
'''


@pytest.fixture
def mod(tmp_path, monkeypatch):
    (tmp_path / "pipeline_steps.py").write_text(STEPS_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("pipeline_steps", None)
    import pipeline_steps

    yield pipeline_steps
    sys.modules.pop("pipeline_steps", None)


def test_shell_and_callable_steps_run_and_are_incremental(tmp_path, mod):
    (tmp_path / "raw.txt").write_text("hello\n")
    flow = datamake.Flow(tmp_path)
    flow.step("clean.txt", "raw.txt", run="tr -d 'l' < $INPUT > $OUTPUT")
    flow.step("upper.txt", "clean.txt", run=mod.upper)
    first = datamake.run(flow, quiet=True)
    assert first.ok and len(first.ran) == 2
    assert (tmp_path / "upper.txt").read_text() == "HEO\n"
    # the callable wrote to a temporary name, renamed onto the target afterwards
    assert (tmp_path / "calls.log").read_text().strip().startswith(".upper.datamake-tmp")
    again = datamake.run(flow, quiet=True)
    assert again.ok and again.ran == []
    (tmp_path / "raw.txt").write_text("world\n")
    os.utime(tmp_path / "raw.txt", (time.time() + 5, time.time() + 5))
    third = datamake.run(flow, quiet=True)
    assert len(third.ran) == 2 and (tmp_path / "upper.txt").read_text() == "WORD\n"


def test_a_failing_callable_leaves_the_old_target_and_no_temporary(tmp_path, mod):
    (tmp_path / "in.txt").write_text("x")
    (tmp_path / "out.txt").write_text("old")
    os.utime(tmp_path / "out.txt", (1, 1))
    flow = datamake.Flow(tmp_path).step("out.txt", "in.txt", run=mod.half_then_fail)
    result = datamake.run(flow, quiet=True)
    assert not result.ok and result.failed == [0] and result.errors[0] == "exit 1"
    assert (tmp_path / "out.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir() if "datamake-tmp" in p.name) == []
    log = open(result.logs[0]).read()
    assert "RuntimeError: bad rows in in.txt" in log


def test_a_callable_step_times_out_and_its_process_is_gone(tmp_path, mod):
    flow = datamake.Flow(tmp_path).step("never.txt", run=mod.sleepy, timeout="1s")
    started = time.monotonic()
    result = datamake.run(flow, quiet=True)
    assert time.monotonic() - started < 20
    assert result.failed == [0] and "timed out" in result.errors[0]
    pid = int((tmp_path / "sleepy.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_pattern_steps_and_a_callable_merge_in_python(tmp_path, mod):
    for name in ("paris", "lima"):
        (tmp_path / "raw").mkdir(exist_ok=True)
        (tmp_path / "raw" / f"{name}.txt").write_text(name.upper() + "\n")
    flow = datamake.Flow(tmp_path)
    flow.step("clean/{city}.txt", "raw/{city}.txt", run=mod.city, retries=1)
    flow.step("all.txt", "clean/{city}.txt", run=mod.merge)
    result = datamake.run(flow, quiet=True)
    assert result.ok and len(result.ran) == 3
    assert (tmp_path / "all.txt").read_text() == "lima:LIMA\nparis:PARIS\n"
    assert "all.txt" in datamake.render_graph(flow, format="dot")


def test_flow_mistakes_are_errors_with_the_callers_line(tmp_path):
    def local_function(step):
        pass

    flow = datamake.Flow(tmp_path).step("x.txt", run=local_function)
    with pytest.raises(DatamakeError) as err:
        datamake.run(flow, quiet=True)
    assert "module-level function" in str(err.value)
    with pytest.raises(DatamakeError, match="unknown option: retrys"):
        datamake.run(datamake.Flow(tmp_path).step("y.txt", run="true", retrys=2), quiet=True)


def test_load_takes_text_or_a_path_explicitly(tmp_path):
    (tmp_path / "in.txt").write_text("a")
    flow = datamake.load(tmp_path, text="out.txt <- in.txt\n  cp $INPUT $OUTPUT\n")
    assert [s.label() for s in flow.steps] == ["out.txt"]
    assert datamake.run(flow, quiet=True).ok and (tmp_path / "out.txt").read_text() == "a"
    with pytest.raises(TypeError):
        datamake.load(tmp_path, TEXT="x")  # variables are a mapping, not keywords


def test_a_workflow_file_takes_steps_from_a_python_module(project):
    project.write("helpers.py", "def shout(text):\n    return text.upper()\n")
    project.write("more_steps.py", """\
        import helpers

        def loud(step):
            with open(step.output, "w") as out:
                out.write(helpers.shout(open(step.input).read()))

        def steps(flow):
            flow.step("loud.txt", "quiet.txt", run=loud)
            flow.step("count.txt", "loud.txt", run="wc -c < $INPUT | tr -d ' ' > $OUTPUT")
        """)
    project.workflow("""\
        %python more_steps.py

        via_python.txt <- quiet.txt [python]
          import helpers   # the workflow's folder is importable
          open("$[OUTPUT]", "w").write(helpers.shout(open("$[INPUT]").read()))
        """)
    project.write("quiet.txt", "hi\n")
    result = project.run("--json")
    assert result.returncode == 0, result.stderr
    assert len(checked(result.stdout, "build")["ran"]) == 3
    assert project.read("loud.txt") == "HI\n" and project.read("count.txt") == "3\n"
    assert project.read("via_python.txt") == "HI\n"
    assert project.run().stdout == "Nothing to do.\n"
    listed = checked(project.run("--print", "--json").stdout, "print")
    assert [s["outputs"] for s in listed["steps"]][-2:] == [["loud.txt"], ["count.txt"]]


def test_a_module_without_steps_is_a_located_error(project):
    project.write("empty.py", "x = 1\n")
    project.workflow("%python empty.py\n")
    result = project.run("-P")
    assert result.returncode == 2
    assert result.stderr.startswith("Drakefile:1:9: error: empty.py defines no steps(flow) function")


def test_a_script_defines_and_runs_its_own_flow(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text(textwrap.dedent("""\
        import datamake

        def double(step):
            open(step.output, "w").write(open(step.input).read() * 2)

        flow = datamake.Flow()
        flow.step("two.txt", "one.txt", run=double)

        if __name__ == "__main__":
            print("main ran")
            assert datamake.run(flow, quiet=True).ok
        """))
    (tmp_path / "one.txt").write_text("x")
    env = {**os.environ, "PYTHONPATH": str(os.path.dirname(os.path.dirname(__file__)))}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("main ran") == 1  # the child loaded the script without running its main block
    assert (tmp_path / "two.txt").read_text() == "xx"

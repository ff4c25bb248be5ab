"""The local executor on real processes: protocols, process groups, timeouts, cancel, logs, overlap."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from datamake.build.executors.base import Job, JobResult
from datamake.build.executors.local import LocalExecutor


def job(tmp_path: Path, key: int, script: str, protocol: str = "shell", **kw) -> Job:
    env = kw.pop("env", {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"})
    return Job(key=key, label=f"step{key}", protocol=protocol, script=script, env=env, cwd=str(tmp_path),
               log_path=str(tmp_path / "logs" / f"{key}.log"), **kw)


def run_all(executor: LocalExecutor, jobs: list[Job]) -> dict[int, JobResult]:
    for j in jobs:
        executor.submit(j)
    results: dict[int, JobResult] = {}
    while len(results) < len(jobs):
        for r in executor.wait(timeout=30):
            results[r.key] = r
    return results


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie is dead too
        return handle.read().split(")")[1].split()[0] != "Z"


def wait_for(path: Path, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


@pytest.fixture
def lines():
    return []


@pytest.fixture
def executor(lines):
    ex = LocalExecutor(4, on_output=lambda j, line, stderr=False: lines.append((j.key, line)))
    yield ex
    ex.close()


def test_shell_runs_in_cwd_with_exactly_the_env_and_logs_both_streams(tmp_path):
    seen = []
    executor = LocalExecutor(1, on_output=lambda j, line, stderr=False: seen.append((line, stderr)))
    script = 'echo "out $GREETING $(pwd)"\necho "err line" >&2\nsleep 0.1\necho "home=${HOME:-unset}"\n'
    try:
        (r,) = run_all(executor, [job(tmp_path, 0, script, env={"PATH": os.environ["PATH"], "GREETING": "hi"})]).values()
    finally:
        executor.close()
    assert r.ok and r.returncode == 0 and r.error is None
    expected = [f"out hi {tmp_path}", "err line", "home=unset"]
    assert sorted(seen) == sorted([(expected[0], False), ("err line", True), ("home=unset", False)])
    assert seen[-1] == ("home=unset", False)
    assert sorted((tmp_path / "logs" / "0.log").read_text().splitlines()) == sorted(expected)
    assert sorted(r.log_tail.splitlines()) == sorted(expected)


def test_shell_stops_at_the_first_failing_command_and_in_pipelines(tmp_path, executor):
    results = run_all(executor, [
        job(tmp_path, 0, "false\necho after > after.txt\n"),
        job(tmp_path, 1, "false | cat\necho after > piped.txt\n"),
        job(tmp_path, 2, "exit 3\n"),
    ])
    assert results[0].returncode == 1 and results[0].error == "exit 1" and not results[0].ok
    assert results[1].returncode == 1
    assert results[2].error == "exit 3"
    assert not (tmp_path / "after.txt").exists() and not (tmp_path / "piped.txt").exists()


def test_python_script_keeps_relative_indentation(tmp_path, executor, lines):
    script = "import sys\nfor i in range(2):\n    print('row', i)\nsys.exit(0)\n"
    (r,) = run_all(executor, [job(tmp_path, 0, script, protocol="python")]).values()
    assert r.ok
    assert [line for _k, line in lines] == ["row 0", "row 1"]


def test_eval_runs_the_first_line_with_the_rest_in_code(tmp_path, executor, lines):
    script = 'python3 -c "$CODE"\nprint("from", "eval")\nprint(2 + 3)'
    (r,) = run_all(executor, [job(tmp_path, 0, script, protocol="eval")]).values()
    assert r.ok, r.error
    assert [line for _k, line in lines] == ["from eval", "5"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_protocol(tmp_path, executor, lines):
    (r,) = run_all(executor, [job(tmp_path, 0, "console.log(6 * 7)", protocol="node")]).values()
    assert r.ok and lines == [(0, "42")]


@pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby is not installed")
def test_ruby_protocol(tmp_path, executor, lines):
    (r,) = run_all(executor, [job(tmp_path, 0, "puts 6 * 7", protocol="ruby")]).values()
    assert r.ok and lines == [(0, "42")]


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_r_protocol(tmp_path, executor, lines):
    (r,) = run_all(executor, [job(tmp_path, 0, "cat(6 * 7, '\\n')", protocol="R")]).values()
    assert r.ok and lines[0][1].strip() == "42"


def test_missing_interpreter_is_a_clear_error_not_a_crash(tmp_path, executor):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    bash_only = tmp_path / "bash-bin"
    bash_only.mkdir()
    (bash_only / "bash").symlink_to(shutil.which("bash"))
    results = run_all(executor, [
        job(tmp_path, 0, "puts 1", protocol="ruby", env={"PATH": str(bash_only)}),
        job(tmp_path, 1, "echo hi", env={"PATH": str(empty)}),
        job(tmp_path, 2, "x", protocol="cobol"),
    ])
    assert results[0].error == "protocol ruby needs 'ruby' on PATH" and results[0].returncode is None
    assert results[1].error == "protocol shell needs 'bash' on PATH"
    assert results[2].error == "unknown protocol cobol"
    assert not any(r.ok for r in results.values())


def test_missing_working_directory_is_reported(tmp_path, executor):
    gone = Job(key=0, label="s", protocol="shell", script="true", env={"PATH": os.environ["PATH"]},
               cwd=str(tmp_path / "nowhere"), log_path=str(tmp_path / "0.log"))
    (r,) = run_all(executor, [gone]).values()
    assert r.error == f"working directory does not exist: {tmp_path / 'nowhere'}"


def test_scripts_are_temporary_files_removed_afterwards(tmp_path, executor, lines):
    (r,) = run_all(executor, [job(tmp_path, 0, 'print(__file__)', protocol="python")]).values()
    script = lines[0][1]
    assert r.ok and os.path.basename(script).startswith("datamake-") and script.endswith(".py")
    assert not os.path.exists(script)


def test_shell_bodies_run_inline_unless_huge_with_datamake_as_dollar_zero(tmp_path, executor, lines):
    huge = 'echo "$0"\n' + "# padding\n" * 4000
    results = run_all(executor, [job(tmp_path, 0, 'echo "$0"\nnosuchcommand'), job(tmp_path, 1, huge)])
    assert results[0].error == "exit 127"
    assert sorted(line for k, line in lines if k == 0) == ["datamake", "datamake: line 2: nosuchcommand: command not found"]
    [script] = [line for k, line in lines if k == 1]
    assert results[1].ok and os.path.basename(script).startswith("datamake-") and script.endswith(".sh")
    assert not os.path.exists(script)


def test_jobs_overlap_when_run_in_parallel(tmp_path, executor):
    # Each job announces itself, then waits until the other has announced too: only overlap ends them.
    a = 'touch a.started\nfor i in $(seq 500); do [ -e b.started ] && exit 0; sleep 0.01; done\nexit 1\n'
    b = 'touch b.started\nfor i in $(seq 500); do [ -e a.started ] && exit 0; sleep 0.01; done\nexit 1\n'
    results = run_all(executor, [job(tmp_path, 0, a), job(tmp_path, 1, b)])
    assert results[0].ok and results[1].ok


def test_stdin_is_closed_when_several_jobs_may_run(tmp_path, executor, lines):
    (r,) = run_all(executor, [job(tmp_path, 0, 'if read -r x; then echo "got $x"; else echo eof; fi')]).values()
    assert r.ok and lines == [(0, "eof")]


def test_timeout_kills_the_whole_process_group(tmp_path, executor):
    script = "sleep 60 &\necho $! > child.pid\nsleep 60\n"
    started = time.monotonic()
    (r,) = run_all(executor, [job(tmp_path, 0, script, timeout=0.5)]).values()
    assert time.monotonic() - started < 10
    assert r.timed_out and not r.ok and not r.interrupted
    assert r.error == "timed out after 0.5s"
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(child)


def test_timeout_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr("datamake.build.executors.local.TERM_GRACE", 0.3)
    ex = LocalExecutor(2)
    try:
        script = "trap '' TERM\ntouch ready\nwhile true; do sleep 0.05; done\n"
        (r,) = run_all(ex, [job(tmp_path, 0, script, timeout=0.3)]).values()
    finally:
        ex.close()
    assert r.timed_out and r.returncode == -9 and r.error == "timed out after 0.3s"


def test_cancel_all_stops_every_group_including_background_children(tmp_path, executor):
    # The pid file appears whole (by rename), so reading it never races the echo.
    jobs = [job(tmp_path, k, f"sleep 60 &\necho $! > c{k}\nmv c{k} child{k}.pid\nsleep 60\n") for k in range(2)]
    for j in jobs:
        executor.submit(j)
    for k in range(2):
        wait_for(tmp_path / f"child{k}.pid")
    children = [int((tmp_path / f"child{k}.pid").read_text()) for k in range(2)]
    results = executor.cancel_all()
    assert sorted(r.key for r in results) == [0, 1]
    assert all(r.interrupted and not r.ok and r.error == "interrupted" for r in results)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(alive(pid) for pid in children)
    assert executor.wait(timeout=0) == []


def test_cancel_all_also_returns_jobs_that_finished_meanwhile(tmp_path, executor):
    executor.submit(job(tmp_path, 0, "echo $$ > quick.tmp\nmv quick.tmp quick.pid"))
    executor.submit(job(tmp_path, 1, "sleep 60"))
    wait_for(tmp_path / "quick.pid")
    quick = int((tmp_path / "quick.pid").read_text())
    deadline = time.monotonic() + 10  # until the quick job's process is over, its result not yet collected
    while alive(quick) and time.monotonic() < deadline:
        time.sleep(0.01)
    results = {r.key: r for r in executor.cancel_all()}
    assert results[0].ok and not results[0].interrupted
    assert results[1].interrupted


def test_wait_returns_empty_on_timeout_and_when_idle(tmp_path, executor):
    assert executor.wait() == []
    executor.submit(job(tmp_path, 0, "sleep 60"))
    assert executor.wait(timeout=0.05) == []
    executor.cancel_all()


def test_output_without_final_newline_and_long_logs(tmp_path, executor, lines):
    script = "seq 1 5000\nprintf 'no newline'"
    (r,) = run_all(executor, [job(tmp_path, 0, script)]).values()
    assert r.ok
    assert len(lines) == 5001 and lines[-1] == (0, "no newline")
    assert r.log_tail.splitlines() == [str(i) for i in range(4982, 5001)] + ["no newline"]
    log = (tmp_path / "logs" / "0.log").read_text()
    assert log.endswith("4999\n5000\nno newline")


def test_hundreds_of_short_jobs(tmp_path):
    ex = LocalExecutor(4)
    try:
        results = run_all(ex, [job(tmp_path, k, f"echo {k} > out{k}.txt") for k in range(200)])
    finally:
        ex.close()
    assert all(r.ok for r in results.values()) and len(results) == 200
    assert (tmp_path / "out199.txt").read_text() == "199\n"


def test_a_job_that_closes_its_output_ends_when_its_process_exits(tmp_path, executor, lines):
    started = time.monotonic()
    (r,) = run_all(executor, [job(tmp_path, 0, "echo bye\nexec >&- 2>&-\nsleep 0.3\nexit 4\n")]).values()
    assert r.returncode == 4 and r.error == "exit 4"
    assert time.monotonic() - started >= 0.3
    assert lines == [(0, "bye")]


def test_a_background_child_holding_the_output_keeps_the_job_going(tmp_path, executor, lines):
    (r,) = run_all(executor, [job(tmp_path, 0, "(sleep 0.3; echo late) &\necho early\n")]).values()
    assert r.ok and lines == [(0, "early"), (0, "late")]


def test_jobs_run_without_threads_of_their_own(tmp_path, executor):
    before = threading.active_count()
    for _round in range(5):
        results = run_all(executor, [job(tmp_path, k, "true") for k in range(2)])
        assert all(r.ok for r in results.values())
        assert threading.active_count() == before

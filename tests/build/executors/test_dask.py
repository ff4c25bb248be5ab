"""DaskExecutor on a real LocalCluster (two process workers on 127.0.0.1), fed Job objects directly."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from datamake.errors import WorkflowError
from datamake.build.executors.base import Job, JobResult
from datamake.build.executors.dask import DaskExecutor
from datamake.build.executors.resources import parse_resources


@pytest.fixture(scope="module")
def executor():
    lines: list[tuple[int, str]] = []
    ex = DaskExecutor(jobs=2, on_output=lambda job, line: lines.append((job.key, line)))
    ex.lines = lines
    yield ex
    ex.close()


def make_job(tmp_path: Path, key: int, script: str, timeout: float | None = None, **env: str) -> Job:
    return Job(key=key, label=f"step {key}", protocol="shell", script=script, env={**os.environ, **env},
               cwd=str(tmp_path), log_path=str(tmp_path / ".datamake" / "logs" / f"{key}.log"), timeout=timeout)


def wait_all(ex: DaskExecutor, count: int, limit: float = 30) -> dict[int, JobResult]:
    results: dict[int, JobResult] = {}
    deadline = time.monotonic() + limit
    while len(results) < count and time.monotonic() < deadline:
        results.update((r.key, r) for r in ex.wait(timeout=1))
    assert len(results) == count, f"only {sorted(results)} finished"
    return results


def wait_for_file(path: Path, limit: float = 20) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def group_gone(pgid: int, limit: float = 10) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# Each job waits for the other's mark, so both succeed only if they run at the same time.
RENDEZVOUS = """
touch {me}.started
for i in $(seq 200); do [ -e {other}.started ] && {{ echo "$GREETING from $PWD"; exit 0; }}; sleep 0.05; done
exit 1
"""


def test_two_jobs_run_at_once_on_two_workers_with_env_cwd_and_logs(executor, tmp_path):
    executor.submit(make_job(tmp_path, 0, RENDEZVOUS.format(me="a", other="b"), GREETING="hello"))
    executor.submit(make_job(tmp_path, 1, RENDEZVOUS.format(me="b", other="a"), GREETING="hi"))
    results = wait_all(executor, 2)
    assert [results[k].ok for k in (0, 1)] == [True, True]
    assert results[0].log_tail == f"hello from {tmp_path}"
    assert (tmp_path / ".datamake/logs/1.log").read_text() == f"hi from {tmp_path}\n"
    assert (0, f"hello from {tmp_path}") in executor.lines
    assert results[0].started <= results[0].finished


def test_a_quiet_success_and_a_loud_one_in_the_same_wait(executor, tmp_path):
    """A step that printed nothing comes back with no result to fetch; one that printed brings its output."""
    executor.submit(make_job(tmp_path, 20, "echo made > quiet.txt"))
    executor.submit(make_job(tmp_path, 21, "echo said; echo made > loud.txt"))
    before = time.time()
    results = wait_all(executor, 2)
    quiet, loud = results[20], results[21]
    assert (quiet.ok, quiet.returncode, quiet.log_tail, quiet.error) == (True, 0, "", None)
    assert before - 1 <= quiet.started <= quiet.finished <= time.time()
    assert (tmp_path / "quiet.txt").read_text() == "made\n"
    assert not (tmp_path / ".datamake/logs/20.log").exists()
    assert (loud.ok, loud.log_tail) == (True, "said")
    assert (21, "said") in executor.lines and not [line for key, line in executor.lines if key == 20]


def test_failing_job_reports_exit_status_and_log_tail(executor, tmp_path):
    executor.submit(make_job(tmp_path, 2, "echo partial work\nfalse\necho never"))
    result = wait_all(executor, 1)[2]
    assert (result.ok, result.returncode, result.error) == (False, 1, "exit 1")
    assert result.log_tail == "partial work"


def test_timeout_kills_the_step_process_group_on_the_worker(executor, tmp_path):
    script = "echo $$ > pid\nsleep 60 & wait"
    executor.submit(make_job(tmp_path, 3, script, timeout=0.5))
    result = wait_all(executor, 1)[3]
    assert (result.ok, result.timed_out, result.error) == (False, True, "timed out after 0.5s")
    assert result.finished - result.started < 10
    assert group_gone(int((tmp_path / "pid").read_text()))


def test_cancel_all_kills_running_steps_on_the_workers(executor, tmp_path):
    executor.submit(make_job(tmp_path, 4, "echo $$ > pid\nsleep 60"))
    pgid = int(wait_for_file(tmp_path / "pid"))
    try:
        results = executor.cancel_all()
        assert [(r.key, r.ok, r.interrupted) for r in results] == [(4, False, True)]
        assert group_gone(pgid)
        assert executor.wait(timeout=0) == []
    finally:
        kill_group(pgid)


def test_cancel_kills_a_step_ignoring_sigterm_and_lets_go_of_a_pipe_an_escaped_process_holds(executor, tmp_path):
    # One step's group ignores SIGTERM (children inherit the ignored signal); the other leaves a
    # process in a session of its own holding its output pipe. Both workers must come free.
    executor.submit(make_job(tmp_path, 20, "trap '' TERM\necho $$ > deaf\nsleep 60"))
    executor.submit(make_job(tmp_path, 21, "setsid sleep 60 &\necho $! > escaped\necho $$ > holder\nsleep 60"))
    groups = [int(wait_for_file(tmp_path / name)) for name in ("deaf", "holder")]
    escaped = int(wait_for_file(tmp_path / "escaped"))
    try:
        started = time.monotonic()
        results = executor.cancel_all()
        assert sorted((r.key, r.interrupted) for r in results) == [(20, True), (21, True)]
        assert all(group_gone(g, limit=5) for g in groups)
        assert time.monotonic() - started < 8
        executor.submit(make_job(tmp_path, 22, RENDEZVOUS.format(me="c", other="d"), GREETING="hi"))
        executor.submit(make_job(tmp_path, 23, RENDEZVOUS.format(me="d", other="c"), GREETING="hi"))
        assert [r.ok for r in wait_all(executor, 2).values()] == [True, True]
    finally:
        for pgid in groups:
            kill_group(pgid)
        kill_group(escaped)


def test_a_timed_wait_returns_nothing_while_the_step_runs_then_its_result(executor, tmp_path):
    executor.submit(make_job(tmp_path, 7, "while [ ! -e go ]; do sleep 0.05; done\necho went"))
    assert executor.wait(timeout=0.3) == []
    (tmp_path / "go").touch()
    result = wait_all(executor, 1)[7]
    assert (result.ok, result.log_tail) == (True, "went")


def test_workers_run_new_steps_after_a_cancel(executor, tmp_path):
    executor.submit(make_job(tmp_path, 8, "echo $$ > pid\nsleep 60"))
    pgid = int(wait_for_file(tmp_path / "pid"))
    try:
        assert [r.key for r in executor.cancel_all()] == [8]
    finally:
        kill_group(pgid)
    for key in (9, 10, 11):
        executor.submit(make_job(tmp_path, key, f"echo {key} > out{key}"))
    assert all(r.ok for r in wait_all(executor, 3).values())
    assert [(tmp_path / f"out{k}").read_text() for k in (9, 10, 11)] == ["9\n", "10\n", "11\n"]


def test_worker_killed_mid_step_is_reported_lost_and_a_resubmit_succeeds(executor, tmp_path):
    client = executor.client
    pids = client.run(os.getpid)
    executor.submit(make_job(tmp_path, 5, "echo $$ > pid\nsleep 60"))
    pgid = int(wait_for_file(tmp_path / "pid"))
    try:
        busy = [addr for addr, tasks in client.processing().items() if tasks]
        assert len(busy) == 1
        os.kill(pids[busy[0]], signal.SIGKILL)
        result = wait_all(executor, 1)[5]
        assert (result.ok, result.returncode, result.error) == (False, None, "worker lost")
    finally:
        kill_group(pgid)  # the dead worker could not stop its step
    executor.submit(make_job(tmp_path, 5, "echo again > out"))
    assert wait_all(executor, 1)[5].ok
    assert (tmp_path / "out").read_text() == "again\n"


def test_a_resource_no_worker_offers_fails_at_once(executor, tmp_path):
    job = make_job(tmp_path, 6, "echo never > out")
    executor.submit(Job(**{**job.__dict__, "resources": {"GPU": 1.0}}))
    result = wait_all(executor, 1, limit=5)[6]
    assert (result.ok, result.error) == (False, "no Dask worker offers resource GPU=1")
    assert not (tmp_path / "out").exists()


def test_resources_and_pool_options_become_dask_resources():
    assert parse_resources('GPU=1, MEM=4e9', "big") == {"GPU": 1.0, "MEM": 4e9, "pool-big": 1.0}
    assert parse_resources(None, None) == {}
    with pytest.raises(WorkflowError, match="bad resource amount: 'GPU=lots'"):
        parse_resources("GPU=lots", None)

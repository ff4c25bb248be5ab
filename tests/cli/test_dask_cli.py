"""`--executor dask` and `--dask-scheduler` through the real command, on clusters bound to 127.0.0.1."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonkit import checked, counts

ROOT = Path(__file__).resolve().parents[2]

WORKFLOW = """
numbers.txt <-
  seq 1 5 > $OUTPUT

squares.txt <- numbers.txt [python]
  import os
  with open(os.environ["INPUT"]) as src, open(os.environ["OUTPUT"], "w") as out:
      out.writelines(f"{int(n) ** 2}\\n" for n in src)

total.txt <- squares.txt
  awk '{s += $1} END {print s}' $INPUT > $OUTPUT

broken.txt <- numbers.txt
  echo "about to fail"
  exit 4

after_broken.txt <- broken.txt
  cp $INPUT $OUTPUT
"""


def test_local_and_dask_executors_make_the_same_files_and_json(project):
    runs = {}
    for executor in ("local", "dask"):
        project.workflow(WORKFLOW, name=f"{executor}/Drakefile")
        runs[executor] = project.run("-w", executor, "-j", "2", "--json", "--executor", executor)
    for executor, run in runs.items():
        assert run.returncode == 1, run.stderr
        assert counts(checked(run.stdout, "build")) == {"ran": [0, 1, 2], "failed": [3], "skipped": [4]}
        assert "step failed: broken.txt (exit 4)" in run.stderr
        assert project.read(f"{executor}/total.txt") == "55\n"
        assert not project.exists(f"{executor}/broken.txt")
        assert "about to fail" in "".join(p.read_text() for p in (project.path / executor / ".datamake/logs").glob("*broken*"))
    again = project.run("-w", "dask", "--json", "--executor", "dask", "=total.txt")
    assert (again.returncode, counts(checked(again.stdout, "build"))) == (0, {"ran": [], "failed": [], "skipped": []})


def test_retries_rerun_a_failed_attempt_on_the_cluster(project):
    project.workflow("""
        out.txt <- [retries:2 retry-delay:0s]
          n=$(cat tries 2>/dev/null || echo 0); echo $((n + 1)) > tries
          [ $n -ge 1 ] && echo done > $OUTPUT
    """)
    run = project.run("--executor", "dask", "--json")
    assert run.returncode == 0, run.stderr
    assert (project.read("tries"), project.read("out.txt")) == ("2\n", "done\n")


def test_unreachable_or_malformed_scheduler_is_a_usage_error(project):
    project.workflow("out.txt <-\n  echo x > $OUTPUT\n")
    refused = project.run("--dask-scheduler", "tcp://127.0.0.1:1")
    assert refused.returncode == 2
    assert refused.stderr == ("datamake: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1: "
                              "Connection refused (start one with `dask scheduler`, or leave out --dask-scheduler)\n")
    bad = project.run("--dask-scheduler", "udp://127.0.0.1:1")
    assert bad.returncode == 2
    assert bad.stderr.startswith("datamake: error: bad Dask scheduler address 'udp://127.0.0.1:1': unknown address scheme")
    assert not project.exists("out.txt")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A `dask scheduler` and one `dask worker` offering GPU=1, as separate processes on loopback."""
    tmp = tmp_path_factory.mktemp("cluster")
    info = tmp / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    loopback = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    procs = [_dask(["scheduler", *loopback, "--port", "0", "--no-dashboard", "--scheduler-file", str(info)], tmp, env)]
    try:
        address = json.loads(_wait_for(info).read_text())["address"]
        procs.append(_dask(["worker", address, *loopback, "--nthreads", "2", "--no-nanny",
                            "--resources", "GPU=1"], tmp, env))
        _wait_for_worker(address)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _dask(args: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    cli = "distributed.cli.dask_" + args[0]
    return subprocess.Popen([sys.executable, "-m", cli, *args[1:]], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(path: Path, limit: float = 30) -> Path:
    deadline = time.monotonic() + limit
    while not (path.exists() and path.read_text().strip().endswith("}")):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path


def _wait_for_worker(address: str, limit: float = 30) -> None:
    from distributed import Client

    with Client(address, timeout="10s", set_as_default=False) as client:
        client.wait_for_workers(1, timeout=limit)


def test_build_through_a_separate_scheduler_and_worker(project, scheduler):
    project.workflow("""
        data.txt <-
          echo "$(hostname) data" > $OUTPUT
        model.txt <- data.txt [resources:"GPU=1"]
          wc -l < $INPUT > $OUTPUT
        big.txt <- data.txt [pool:big]
          echo never > $OUTPUT
    """)
    run = project.run("--dask-scheduler", scheduler, "-j", "2", "--json", "=data.txt", "=model.txt")
    assert run.returncode == 0, run.stderr
    assert counts(checked(run.stdout, "build")) == {"ran": [0, 1], "failed": [], "skipped": []}
    assert project.read("model.txt").strip() == "1"
    pooled = project.run("--dask-scheduler", scheduler, "big.txt")
    assert pooled.returncode == 1
    assert pooled.stderr.endswith("datamake: error: step failed: big.txt (no Dask worker offers resource pool-big=1)\n")
    assert not project.exists("big.txt")


def test_a_malformed_resource_amount_is_a_workflow_error_before_anything_runs(project):
    project.workflow("""
        first.txt <-
          echo 1 > $OUTPUT
        model.txt <- first.txt [resources:"GPU=lots"]
          echo 2 > $OUTPUT
    """)
    run = project.run("-j", "2")
    assert run.returncode == 2
    assert run.stderr.splitlines()[:2] == [
        "Drakefile:4:1: error: bad resource amount: 'GPU=lots' (write NAME=NUMBER, e.g. GPU=1)",
        'model.txt <- first.txt [resources:"GPU=lots"]']
    assert not project.exists("first.txt")

"""Cost of the Dask executor against Dask's own floor, and where Dask pays off.

The floor: plain `dask.distributed` running the same subprocesses on the same cluster. The
workflow has N independent steps `out/i.txt <-` that each `echo i > $OUTPUT`. datamake's side
is a full build from nothing through the real command (`python -m datamake -q -jJ --executor
dask`). The plain side is a Python process of its own (this file with `--plain`) that starts
the same LocalCluster (2 process workers, datamake's settings), submits N tasks keeping J in
flight, each task spawning the same process datamake's worker spawns (`bash -e -o pipefail -c`
with datamake's prelude and `echo i > out/i.txt`, stdin /dev/null, output read from a pipe)
and sending back its exit status and output, then closes the cluster. Both sides' times
include the interpreter's start, the imports and the cluster's start and stop; their 1-step
runs give that fixed part, so the marginal cost per step, (T(N) - T(1)) / (N - 1), is printed
too. Each repetition runs both sides, the order alternating; the ratio datamake / plain is
taken per repetition: its median and range are printed. Target: at most 1.2x.

The payoff: M steps of `sleep 1` on the 2-worker cluster (`--executor dask -j2`) against the
local executor at `-j1`.

Usage: python bench/dask_bench.py [--steps 1000] [--jobs 2,8] [--repeat 3] [--sleepers 20]
"""
from __future__ import annotations

import argparse
import ctypes
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from datamake.build.executors.shell import strict_argv, strict_script  # noqa: E402

BASH = shutil.which("bash")
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def write_workflow(root: Path, steps: int, body: str = "echo {i} > $OUTPUT") -> None:
    text = "".join(f"out/{i}.txt <-\n  {body.format(i=i)}\n\n" for i in range(steps))
    (root / "Drakefile").write_text(text)


def fresh(root: Path) -> None:
    for leftover in ("out", ".datamake"):
        shutil.rmtree(root / leftover, ignore_errors=True)


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # user+sys seconds of every process of the run: client, scheduler, workers, steps


def subreaper() -> bool:
    """Adopt orphaned descendants (the forkserver and the workers outlive the client by a moment),
    so their CPU time is counted when they are reaped. Linux only."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def timed(argv: list[str], root: Path) -> Run:
    fresh(root)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=root, env=ENV)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}"
    return Run(wall, usage.ru_utime + usage.ru_stime + reap_orphans())


def reap_orphans(patience: float = 30.0) -> float:
    """CPU seconds of the adopted processes (with what they reaped), once they have all exited."""
    cpu, deadline = 0.0, time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            pid, _status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            cpu += usage.ru_utime + usage.ru_stime
        else:
            time.sleep(0.01)
    return cpu


def datamake_build(root: Path, jobs: int, executor: str = "dask") -> Run:
    """One full build from nothing with `executor` at `-j jobs`."""
    return timed([sys.executable, "-m", "datamake", "-q", "-j", str(jobs), "--executor", executor], root)


def plain_dask(root: Path, steps: int, jobs: int) -> Run:
    """Plain Dask running the same `steps` processes, `jobs` in flight, in a Python process of its own."""
    return timed([sys.executable, str(Path(__file__).resolve()), "--plain", str(steps), str(jobs)], root)


# ---- the plain side, run as `dask_bench.py --plain STEPS JOBS` in the workflow's directory ----

def run_step(i: int) -> tuple[int, bytes]:
    """One task: the step's process, as datamake's worker starts it; its exit status and output."""
    read, write = os.pipe()
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, write, 1), (os.POSIX_SPAWN_DUP2, write, 2)]
    argv = [*strict_argv(BASH), "-c", strict_script(f"echo {i} > out/{i}.txt"), "datamake"]
    os.makedirs("out", exist_ok=True)
    pid = os.posix_spawn(BASH, argv, os.environ, file_actions=actions, setsid=True)
    os.close(write)
    with open(read, "rb", buffering=0) as pipe:
        output = pipe.read()
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), output


def plain_main(steps: int, jobs: int) -> None:
    from distributed import Client, as_completed

    from bench.dask_bench import run_step as task  # by reference, as datamake's task is: not pickled by value
    from datamake.build.executors.dask import _local_cluster

    cluster = _local_cluster()
    client = Client(cluster, set_as_default=False)
    try:
        first = [client.submit(task, i, pure=False) for i in range(min(jobs, steps))]
        pending = as_completed(first, loop=client.loop, with_results=True)
        submitted = len(first)
        for _future, (status, _output) in pending:
            assert status == 0, status
            if submitted < steps:
                pending.add(client.submit(task, submitted, pure=False))
                submitted += 1
    finally:
        client.close()
        cluster.close()


# ---- the report ----

def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"


def compare(root: Path, steps: int, jobs: int, repeat: int) -> list[str]:
    """datamake and plain Dask on `steps` tiny steps at `jobs` in flight, alternating; lines to print."""
    runs: dict[tuple[str, int], list[Run]] = {}
    for rep in range(repeat):
        sides = [("datamake", steps), ("plain", steps), ("datamake", 1), ("plain", 1)]
        for side, n in (sides if rep % 2 == 0 else [sides[1], sides[0], sides[3], sides[2]]):
            write_workflow(root, n)
            run = datamake_build(root, jobs) if side == "datamake" else plain_dask(root, n, jobs)
            if n == steps:
                assert len(list((root / "out").iterdir())) == steps, f"{side}: not every output made"
            runs.setdefault((side, n), []).append(run)
    ours, theirs = runs["datamake", steps], runs["plain", steps]
    ours_one, theirs_one = runs["datamake", 1], runs["plain", 1]
    marginal = [(a.wall - a1.wall) / (b.wall - b1.wall) for a, b, a1, b1 in zip(ours, theirs, ours_one, theirs_one)]

    def per(side: list[Run], field: str) -> str:
        values = [getattr(r, field) for r in side]
        return f"{statistics.median(values):.2f} s ({statistics.median(values) / steps * 1000:.1f} ms/step)"

    def step(full: list[Run], one: list[Run]) -> float:
        return statistics.median((f.wall - o.wall) / (steps - 1) * 1000 for f, o in zip(full, one))
    return [
        f"-j{jobs}: wall: datamake {per(ours, 'wall')}, plain Dask {per(theirs, 'wall')}; "
        f"ratio {spread([a.wall / b.wall for a, b in zip(ours, theirs)])} (target <= 1.2x)",
        f"     CPU, all processes: datamake {per(ours, 'cpu')}, plain Dask {per(theirs, 'cpu')}; "
        f"ratio {spread([a.cpu / b.cpu for a, b in zip(ours, theirs)])}",
        f"     1-step runs (start-up, cluster start and stop): datamake {statistics.median(r.wall for r in ours_one):.2f} s, "
        f"plain {statistics.median(r.wall for r in theirs_one):.2f} s; wall per step beyond them: datamake "
        f"{step(ours, ours_one):.1f} ms, plain {step(theirs, theirs_one):.1f} ms, ratio {spread(marginal)}",
    ]


def payoff(root: Path, sleepers: int) -> str:
    """`sleepers` steps of `sleep 1`: the dask cluster at -j2 against the local executor at -j1."""
    write_workflow(root, sleepers, "sleep 1 && echo {i} > $OUTPUT")
    local = datamake_build(root, 1, "local").wall
    dask = datamake_build(root, 2, "dask").wall
    return (f"payoff: {sleepers} steps of `sleep 1`: local -j1 {local:.2f} s, dask LocalCluster "
            f"(2 workers) -j2 {dask:.2f} s: speed-up {local / dask:.2f}x")


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, load {load}"


def main() -> None:
    if sys.argv[1:2] == ["--plain"]:
        return plain_main(int(sys.argv[2]), int(sys.argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--jobs", default="2,8", help="in-flight counts to compare, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sleepers", type=int, default=20, help="steps of `sleep 1` for the payoff (0: skip)")
    args = ap.parse_args()
    counted = "" if subreaper() else " (CPU: the client process only, orphans not adopted)"
    print(f"{args.steps} tiny independent steps, full builds, {args.repeat} repetitions alternating sides; "
          f"at start: {machine()}{counted}", flush=True)
    with tempfile.TemporaryDirectory(prefix="datamake-dask-bench-") as tmp:
        root = Path(tmp)
        for jobs in (int(j) for j in args.jobs.split(",")):
            print("\n".join(compare(root, args.steps, jobs, args.repeat)), flush=True)
        if args.sleepers:
            print(payoff(root, args.sleepers), flush=True)
    print(f"at end: load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""Cost of the Dask executor: 1,000 tiny steps on a LocalCluster (2 workers) vs the local executor at -j2.

The workflow: N independent steps `out/i.txt <-` that each echo one line. Each run is a full
build from nothing (fresh outputs and state), through the real command; the Dask run includes
starting and stopping its LocalCluster. Median of --repeat runs each; target at most 3x.
Also Dask at -j4 and -j8: steps wait queued on the cluster, which hides part of the
client-scheduler-worker round trip behind the running ones.

To say where the floor is, it also measures, on the same LocalCluster the executor starts:
a one-step build (starting and stopping the cluster), and Dask alone running N no-op tasks
(a function returning a small tuple, no process) one at a time and two at a time.

Usage: python bench/dask_bench.py [--steps 1000] [--repeat 3] [--append-readme]
"""
from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_workflow(root: Path, steps: int) -> None:
    body = "".join(f"out/{i}.txt <-\n  echo {i} > $OUTPUT\n\n" for i in range(steps))
    (root / "Drakefile").write_text(body)


def full_build(root: Path, executor: str, jobs: int = 2) -> float:
    """Seconds for one build of every step from nothing with `executor` at `-j jobs`."""
    for leftover in ("out", ".datamake"):
        shutil.rmtree(root / leftover, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "datamake", "-q", "-j", str(jobs), "--executor", executor],
                   cwd=root, env=env, check=True)
    return time.perf_counter() - start


def noop(i: int) -> tuple[int, str]:
    return i, "done"


def dask_alone(tasks: int, in_flight: int) -> float:
    """Seconds per no-op task through Dask alone, `in_flight` at a time, on the executor's cluster."""
    from datamake.build.executors.dask import DaskExecutor

    executor = DaskExecutor(jobs=in_flight)
    try:
        client = executor.client
        client.submit(noop, -1, pure=False).result()  # workers warm, the function known
        done: queue.SimpleQueue = queue.SimpleQueue()
        start = time.perf_counter()
        for i in range(min(in_flight, tasks)):
            client.submit(noop, i, pure=False).add_done_callback(done.put)
        for i in range(in_flight, tasks + in_flight):
            done.get().result()
            if i < tasks:
                client.submit(noop, i, pure=False).add_done_callback(done.put)
        return (time.perf_counter() - start) / tasks
    finally:
        executor.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--append-readme", action="store_true", help="append the results to bench/README.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="datamake-dask-bench-") as tmp:
        root = Path(tmp)
        write_workflow(root, args.steps)
        local = statistics.median(full_build(root, "local") for _ in range(args.repeat))
        dask = statistics.median(full_build(root, "dask") for _ in range(args.repeat))
        queued = statistics.median(full_build(root, "dask", 4) for _ in range(args.repeat))
        deep = statistics.median(full_build(root, "dask", 8) for _ in range(args.repeat))
        made = len(list((root / "out").iterdir()))
        write_workflow(root, 1)
        startup = statistics.median(full_build(root, "dask") for _ in range(args.repeat))
    assert made == args.steps, f"only {made} of {args.steps} outputs"
    alone = [statistics.median(dask_alone(args.steps, k) for _ in range(args.repeat)) for k in (1, 2)]
    lines = [
        f"{args.steps} tiny independent steps, full builds at -j2, medians of {args.repeat} runs ({os.cpu_count()} cores)",
        f"local executor:             {local:.2f} s ({local / args.steps * 1000:.1f} ms/step)",
        f"dask LocalCluster, 2 workers: {dask:.2f} s ({dask / args.steps * 1000:.1f} ms/step)",
        f"dask, -j4 (2 running, 2 queued on the cluster): {queued:.2f} s ({queued / args.steps * 1000:.1f} ms/step)",
        f"dask, -j8 (2 running, 6 queued on the cluster): {deep:.2f} s ({deep / args.steps * 1000:.1f} ms/step)",
        f"ratio dask/local at -j2: {dask / local:.2f}x, -j4: {queued / local:.2f}x, -j8: {deep / local:.2f}x (target <= 3x)",
        f"floor: a 1-step dask build {startup:.2f} s (cluster start and stop); Dask alone, no-op tasks: "
        f"{alone[0] * 1000:.1f} ms/task one at a time, {alone[1] * 1000:.1f} ms/task two at a time",
    ]
    print("\n".join(lines))
    if args.append_readme:
        with open(ROOT / "bench" / "README.md", "a", encoding="utf-8") as readme:
            readme.write("\n## Dask executor (bench/dask_bench.py)\n\n```\n" + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()

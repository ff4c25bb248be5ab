"""Cost of one cron tick (`datamake --once`) on S3 as history grows: 365 done daily intervals against 7.

A dated workflow of 20 steps, each writing `s3://BUCKET/outJ/$[DATE].csv`, on moto's S3 server
(127.0.0.1). Every output already exists; a first untimed tick adopts (or re-checks) them all.
Then each tick is counted (requests the server saw, by kind) and timed (median of --repeat, the
365- and 7-interval sides alternating): wall time and the datamake process's own CPU. Target: at
most one LIST per prefix, no HEAD or GET of an up-to-date object, and the 365-interval tick at
most 2x the 7-interval one. The daily full sweep (`--once --sweep`, which checks every recorded
interval and may grow with history) is counted and timed beside it, without a target.

Usage: python bench/tick_bench.py [--days 365] [--outputs 20] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from s3.server import CREDENTIALS, S3Server  # noqa: E402

NOW = date(2026, 11, 24)


def workflow(bucket: str, days: int, outputs: int) -> str:
    start = NOW - timedelta(days=days)
    steps = "".join(f"s3://{bucket}/out{j}/$[DATE].csv <-\n  echo {j} > $OUTPUT\n\n" for j in range(outputs))
    return f"%schedule daily start:{start.isoformat()}\n\n{steps}"


def fill(server: S3Server, bucket: str, days: int, outputs: int) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=server.endpoint, key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True)
    fs.mkdir(bucket)
    names = {f"{bucket}/out{j}/{NOW - timedelta(days=d)}.csv": b"x\n"
             for d in range(1, days + 1) for j in range(outputs)}
    fs.pipe(names)


def tick(directory: Path, env: dict, *extra: str) -> tuple[float, float]:
    """One tick's wall time and the CPU time of its process (user + system)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "datamake", "--once", "-q", f"--now={NOW}T03:00:00Z", *extra],
                            cwd=directory, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"tick failed in {directory}: {result.stderr}")
    return elapsed, (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)


def kinds(requests) -> dict[str, int]:
    out = {"LIST": 0, "HEAD": 0, "GET object": 0, "other": 0}
    for r in requests:
        if r.method == "GET" and ("list-type" in r.query or "prefix" in r.query):
            out["LIST"] += 1
        elif r.method == "HEAD":
            out["HEAD"] += 1
        elif r.is_get_object:
            out["GET object"] += 1
        else:
            out["other"] += 1
    return out


def counted(server: S3Server, bucket: str, directory: Path, env: dict, *extra: str) -> dict[str, int]:
    before = len(server.requests(bucket))
    tick(directory, env, *extra)
    return kinds(server.requests(bucket)[before:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--outputs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    server = S3Server().start()
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    sides, load = {}, [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        for label, days in (("history", opts.days), ("week", 7)):
            bucket = f"tick-{label}"
            fill(server, bucket, days, opts.outputs)
            directory = Path(tmp) / label
            directory.mkdir()
            (directory / "Drakefile").write_text(workflow(bucket, days, opts.outputs))
            tick(directory, env)  # adopts every interval (and fills the parse cache)
            sides[label] = (directory, days, counted(server, bucket, directory, env),
                            counted(server, bucket, directory, env, "--sweep"))
        times = {(label, kind): [] for label in sides for kind in ("tick", "sweep")}
        for _ in range(opts.repeat):
            for label, (directory, *_rest) in sides.items():
                times[label, "tick"].append(tick(directory, env))
            for label, (directory, *_rest) in sides.items():
                times[label, "sweep"].append(tick(directory, env, "--sweep"))
        load.append(os.getloadavg()[0])
    server.stop()
    show(sides, times, load, opts)


def show(sides: dict, times: dict, load: list[float], opts) -> None:
    print(f"load average (1 min) at start and end: {load[0]:.1f}, {load[1]:.1f}")
    for kind, at in (("tick", 2), ("sweep", 3)):
        for label, side in sides.items():
            walls, cpus = zip(*times[label, kind])
            print(f"{kind} over {side[1]} intervals x {opts.outputs} outputs: median {statistics.median(walls):.3f} s "
                  f"(range {min(walls):.3f}-{max(walls):.3f}), datamake CPU {statistics.median(cpus):.3f} s; "
                  f"requests: {side[at]}")
    for kind in ("tick", "sweep"):
        wall = statistics.median(w for w, _ in times["history", kind]) / statistics.median(
            w for w, _ in times["week", kind])
        cpu = statistics.median(c for _, c in times["history", kind]) / statistics.median(
            c for _, c in times["week", kind])
        goal = " (target at most 2x)" if kind == "tick" else ""
        print(f"{kind}: ratio {opts.days} / 7 intervals: wall {wall:.2f}x, CPU {cpu:.2f}x{goal}")


if __name__ == "__main__":
    main()

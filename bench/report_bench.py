"""Bench of `datamake --report html`: build time, page size and time to first render in headless Chromium.

    python bench/report_bench.py                      # 1,300 steps x 30 intervals and 160 x 365
    python bench/report_bench.py --shape 160x365

The history is written through the state store's own API (one success per step and interval,
one step in fifty failing once first) and each output file is written, not by running the steps:
the bench measures the report.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datamake.store.intervals import ScheduleState  # noqa: E402
from datamake.store.statedb import AttemptWhere, StateStore  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FIRST_DAY = datetime(2025, 1, 1, tzinfo=timezone.utc)


def workflow_text(steps: int) -> str:
    """A dated workflow of `steps` steps, each reading the one before and the one at half its index."""
    out = ["%schedule daily start:2025-01-01\n"]
    for i in range(steps):
        inputs = f"d/{i - 1}/$[DATE].csv, d/{i // 2}/$[DATE].csv" if i > 1 else (f"d/{i - 1}/$[DATE].csv" if i else "")
        out.append(f"d/{i}/$[DATE].csv <- {inputs}\n  echo {i} > $OUTPUT\n\n")
    return "".join(out)


def fill_history(folder: Path, steps: int, intervals: int) -> datetime:
    """One interval attempt per day, one step attempt per step (two for one step in fifty); returns `now`."""
    workflow = str(folder / "Drakefile")
    state_dir = str(folder / ".datamake")
    store = StateStore.open(state_dir)
    schedule = ScheduleState(state_dir, workflow)
    for day in range(intervals):
        start = FIRST_DAY + timedelta(days=day)
        key = start.date().isoformat()
        claim = schedule.claim(key, start.isoformat(), (start + timedelta(days=1)).isoformat(), os.getpid(), None)
        run = store.begin_run(["--date", key])
        clock = (start + timedelta(days=1, minutes=5)).timestamp()
        logs = folder / ".datamake" / "logs" / key
        logs.mkdir(parents=True, exist_ok=True)
        with store.transaction():
            for i in range(steps):
                name = f"d/{i}/$[DATE].csv"
                output = folder / "d" / str(i) / f"{key}.csv"
                output.parent.mkdir(parents=True, exist_ok=True)
                output.write_text(f"{i}\n")  # present, so the grid shows successes, not missing outputs
                tries = 2 if (i + day) % 50 == 0 else 1
                for attempt in range(1, tries + 1):
                    log = logs / f"d_{i}_DATE_.csv.{attempt}.log"
                    log.write_text(f"step {i} attempt {attempt}\n" + ("boom\n" if attempt < tries else ""))
                    outcome = "retry" if attempt < tries else "success"
                    store.record_attempt(run, str(output), i, f"d/{i}/{key}.csv",
                                         outcome, clock, clock + 0.5 + (i % 7) * 0.1, str(log), "missing output",
                                         "exit 1" if outcome == "retry" else None,
                                         AttemptWhere(workflow, key, name, attempt, 1 if outcome == "retry" else 0))
                    clock += 0.6 + (i % 7) * 0.1
        store.end_run(run, "success")
        schedule.finish(claim, key, "success", steps={f"d/{i}/$[DATE].csv": "success" for i in range(steps)})
    store.close()
    schedule.close()
    return FIRST_DAY + timedelta(days=intervals, hours=6)


def first_render_ms(page: Path, profile: Path) -> tuple[float, float]:
    """(the page's own performance.now() when its script finished, Chromium's wall time) of one load."""
    began = time.perf_counter()
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--window-size=1400,900", f"--user-data-dir={profile}",
                           "--dump-dom", page.as_uri() + "#w=0&v=grid"], capture_output=True, text=True, timeout=300)
    wall = (time.perf_counter() - began) * 1000
    found = re.search(r'data-render-ms="(\d+)"', done.stdout)
    if not found:
        raise SystemExit(f"the page did not render: {done.stderr[-500:]}")
    return float(found.group(1)), wall


def bench(steps: int, intervals: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Drakefile").write_text(workflow_text(steps))
        began = time.perf_counter()
        now = fill_history(folder, steps, intervals)
        filled = time.perf_counter() - began
        env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(folder / "cache"))
        builds = []
        for _ in range(repeat):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "datamake", "--report", "html", "-o", "report.html",
                            "--now", now.isoformat()], cwd=folder, env=env, check=True)
            builds.append(time.perf_counter() - began)
        page = folder / "report.html"
        data = json.loads(subprocess.run([sys.executable, "-m", "datamake", "--report", "json", "--now", now.isoformat()],
                                         cwd=folder, env=env, check=True, capture_output=True, text=True).stdout)
        renders = [first_render_ms(page, folder / f"profile-{n}") for n in range(repeat)]
        return {"shape": f"{steps} x {intervals}", "attempts": len(data["workflows"][0]["attempts"]),
                "history_s": filled, "build_s": statistics.median(builds), "page_mb": page.stat().st_size / 1e6,
                "render_ms": statistics.median(r[0] for r in renders),
                "chromium_ms": statistics.median(r[1] for r in renders)}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    browser = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    graphviz = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {browser}, {graphviz}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", help="STEPSxINTERVALS (default 1300x30 and 160x365)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print("| steps x intervals | step attempts | report built | page size | first render (page) | Chromium run "
          "| load average (1 min) before / after |")
    print("|---|---|---|---|---|---|---|")
    for shape in args.shape or ["1300x30", "160x365"]:
        steps, intervals = (int(n) for n in shape.split("x"))
        before = os.getloadavg()[0]
        r = bench(steps, intervals, args.repeat)
        print(f"| {r['shape']} | {r['attempts']:,} | {r['build_s']:.2f} s | {r['page_mb']:.1f} MB | "
              f"{r['render_ms']:.0f} ms | {r['chromium_ms']:.0f} ms | {before:.1f} / {os.getloadavg()[0]:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()

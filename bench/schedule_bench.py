"""Planning cost of the schedule layer: a year of daily intervals vs the same steps written out.

Dated: a 5-step workflow using $[DATE], previewed as the catch-up of 365 daily intervals
(`datamake -P --schedule daily --start ... --now ...`). Static: the same 1,825 steps written
out with literal dates, previewed once (`datamake -P`). Both plan everything (nothing is built),
in a fresh directory, after one untimed run of each (which fills the parse cache). Runs alternate
between the two; prints each median time and the ratio (target: at most 1.5x).

Usage: python bench/schedule_bench.py [--days 365] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = """\
raw/{d}.json <-
  echo raw > $OUTPUT

clean/{d}.json <- raw/{d}.json
  cp $INPUT $OUTPUT

features/{d}.csv <- clean/{d}.json
  wc -c < $INPUT > $OUTPUT

model/{d}.txt <- features/{d}.csv
  cat $INPUT > $OUTPUT

report/{d}.html <- model/{d}.txt, features/{d}.csv
  cat $INPUTS > $OUTPUT

"""


def write(directory: Path, days: int, start: date) -> tuple[Path, Path]:
    dated = directory / "dated"
    static = directory / "static"
    dated.mkdir()
    static.mkdir()
    (dated / "Drakefile").write_text(STEPS.format(d="$[DATE]"))
    literal = "".join(STEPS.format(d=(start + timedelta(days=n)).isoformat()) for n in range(days))
    (static / "Drakefile").write_text(literal)
    return dated, static


def timed(cwd: Path, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "datamake", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"datamake failed in {cwd}: {proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    start = date(2025, 1, 1)
    now = (start + timedelta(days=opts.days)).isoformat() + "T06:00:00Z"
    with tempfile.TemporaryDirectory() as tmp:
        dated, static = write(Path(tmp), opts.days, start)
        schedule = ("-P", "--schedule", "daily", "--start", start.isoformat(), "--now", now)
        timed(dated, *schedule), timed(static, "-P")  # first runs fill the parse cache, as any later run finds it
        # Interleaved, so a busy spell on the machine weighs on both sides alike.
        pairs = [(timed(dated, *schedule), timed(static, "-P")) for _ in range(opts.repeat)]
        t_dated = statistics.median(d for d, _ in pairs)
        t_static = statistics.median(s for _, s in pairs)
    print(f"dated catch-up, {opts.days} intervals x 5 steps: {t_dated:.2f}s")
    print(f"static workflow, {opts.days * 5} steps:            {t_static:.2f}s")
    print(f"ratio dated/static: {t_dated / t_static:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()

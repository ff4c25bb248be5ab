"""Time parsing and evaluating a generated workflow of N `a/i <- src/i` copy steps.

Usage: python bench/parse_bench.py [--steps 20000] [--repeat 3]
Prints the best parse time (text -> syntax) and load time (parse + evaluate) in seconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datamake.language import parser  # noqa: E402
from datamake.language.load import load_workflow  # noqa: E402


def generate(steps: int) -> str:
    return "".join(f"a/{i} <- src/{i}\n  cp $INPUT $OUTPUT\n" for i in range(steps))


def best(fn, repeat: int) -> str:
    """Best wall time and best CPU time (the CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return f"{min(wall):.3f}s ({min(cpu):.3f}s CPU)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    text = generate(args.steps)
    parser.parse_text("a <- b\n  true\n", "<warm-up>")  # build the Lark parser once
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Drakefile"
        path.write_text(text)
        parse = best(lambda: parser.parse_text(text, str(path)), args.repeat)
        load = best(lambda: load_workflow(str(path)), args.repeat)  # parse cached after first
        parser._CACHE.clear()
        cold = best(lambda: (parser._CACHE.clear(), load_workflow(str(path))), 1)
    print(f"{args.steps} steps: parse {parse}, evaluate (cached parse) {load}, parse + evaluate {cold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

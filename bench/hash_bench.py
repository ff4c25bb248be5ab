"""Cost of hash mode: a no-op run over 1 GB of inputs vs timestamp mode, and hashing speed vs md5sum.

No-op: a workflow of one step per input file, built once, then `datamake -P`-free no-op runs
(`datamake --check hash` with its stat cache warm vs plain `datamake`), median of --repeat runs
each; target at most 1.1x. First run: xxh3_128 over every input byte (datamake.fingerprint)
vs `md5sum` on the same files, in MB/s, both on a warm page cache.

Usage: python bench/hash_bench.py [--mb 1024] [--files 64] [--repeat 5] [--append-readme]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_inputs(root: Path, mb: int, files: int) -> list[Path]:
    """`files` files of pseudo-random bytes adding up to `mb` megabytes."""
    (root / "in").mkdir()
    block = os.urandom(1 << 20)
    per_file = max(1, mb // files)
    paths = []
    for i in range(files):
        path = root / "in" / f"{i:03d}.bin"
        with open(path, "wb") as handle:
            for j in range(per_file):
                handle.write(block[j % 997:] + block[: j % 997])  # distinct blocks, cheap to make
        paths.append(path)
    steps = "".join(f"out/{p.stem}.txt <- in/{p.name}\n  echo done > $OUTPUT\n" for p in paths)
    (root / "Drakefile").write_text(steps)
    return paths


def datamake(root: Path, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "datamake", "-q", *args], cwd=root, env=env, check=True)
    return time.perf_counter() - start


def median_run(root: Path, repeat: int, *args: str) -> float:
    return statistics.median(datamake(root, *args) for _ in range(repeat))


def throughput(paths: list[Path]) -> tuple[float, float]:
    """MB/s of datamake's file hashing and of md5sum over the same files."""
    from datamake.decide import fingerprint

    total = sum(p.stat().st_size for p in paths) / 1e6
    subprocess.run(["cat", *map(str, paths)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    start = time.perf_counter()
    for p in paths:
        fingerprint.hash_file(str(p))
    ours = total / (time.perf_counter() - start)
    start = time.perf_counter()
    subprocess.run(["md5sum", *map(str, paths)], stdout=subprocess.DEVNULL, check=True)
    md5 = total / (time.perf_counter() - start)
    return ours, md5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--append-readme", action="store_true", help="append the results to bench/README.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="datamake-hash-bench-") as tmp:
        root = Path(tmp)
        paths = make_inputs(root, args.mb, args.files)
        first = datamake(root, "--check", "hash", "--state-dir", ".dm-hash")
        datamake(root, "--state-dir", ".dm-time")
        hashed = median_run(root, args.repeat, "--check", "hash", "--state-dir", ".dm-hash")
        stamped = median_run(root, args.repeat, "--state-dir", ".dm-time")
        ours, md5 = throughput(paths)
    lines = [
        f"inputs: {args.files} files, {args.mb} MB; no-op medians of {args.repeat} runs",
        f"first hash-mode build (hashes every input): {first:.2f} s",
        f"no-op, timestamp mode: {stamped:.3f} s",
        f"no-op, hash mode:      {hashed:.3f} s  (ratio {hashed / stamped:.2f}x, target <= 1.10x)",
        f"hashing: datamake xxh3_128 {ours:.0f} MB/s, md5sum {md5:.0f} MB/s (ratio {ours / md5:.2f}x)",
    ]
    print("\n".join(lines))
    if args.append_readme:
        with open(ROOT / "bench" / "README.md", "a", encoding="utf-8") as readme:
            readme.write("\n## Hash mode (bench/hash_bench.py)\n\n```\n" + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()

"""Full-build and no-op timings of datamake against GNU make, doit and Snakemake on one workflow.

The workflow (N sources): `a/i <- src/i` (cp), `b/i <- a/i` (cp), groups of 100 `b` files
catted into `g/k`, all `g` files catted into `all.txt`: 2N + N/100 + 1 steps.

Usage: python bench/build_bench.py [--sizes 1000,10000] [--repeat 3] [--write-readme]
Peers run from bench/.venv (created on first use: pip install doit snakemake).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
WORK = HERE / "work"
TOOLS = ("datamake", "make", "doit", "snakemake")
PEER_TIMEOUT = 600


def ensure_venv() -> Path:
    """The bench's own venv with the peers and datamake itself installed."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if subprocess.run([str(python), "-c", "import doit, snakemake"], capture_output=True).returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "doit", "snakemake"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    return VENV / "bin"


def generate(root: Path, n: int) -> None:
    """Write sources and the same workflow for every tool into `root`."""
    if root.exists():
        shutil.rmtree(root)
    (root / "src").mkdir(parents=True)
    for i in range(n):
        (root / "src" / f"{i}.txt").write_text(f"row {i}\n")
    groups = [list(range(k, min(k + 100, n))) for k in range(0, n, 100)]
    (root / "Drakefile").write_text(_drakefile(n, groups))
    (root / "Makefile").write_text(_makefile(n, groups))
    (root / "dodo.py").write_text(_dodo(n))
    (root / "Snakefile").write_text(_snakefile(n))


def _drakefile(n: int, groups: list[list[int]]) -> str:
    out = []
    for i in range(n):
        out.append(f"a/{i}.txt <- src/{i}.txt\n  cp $INPUT $OUTPUT\n")
        out.append(f"b/{i}.txt <- a/{i}.txt\n  cp $INPUT $OUTPUT\n")
    for k, members in enumerate(groups):
        ins = ", ".join(f"b/{i}.txt" for i in members)
        out.append(f"g/{k}.txt <- {ins}\n  cat $INPUTS > $OUTPUT\n")
    ins = ", ".join(f"g/{k}.txt" for k in range(len(groups)))
    out.append(f"all.txt <- {ins}\n  cat $INPUTS > $OUTPUT\n")
    return "\n".join(out)


def _makefile(n: int, groups: list[list[int]]) -> str:
    lines = [".PHONY: everything", f"everything: all.txt", ""]
    lines += ["a/%.txt: src/%.txt", "\t@mkdir -p a && cp $< $@", ""]
    lines += ["b/%.txt: a/%.txt", "\t@mkdir -p b && cp $< $@", ""]
    for k, members in enumerate(groups):
        deps = " ".join(f"b/{i}.txt" for i in members)
        lines += [f"g/{k}.txt: {deps}", "\t@mkdir -p g && cat $^ > $@", ""]
    deps = " ".join(f"g/{k}.txt" for k in range(len(groups)))
    lines += [f"all.txt: {deps}", "\t@cat $^ > $@", ""]
    return "\n".join(lines)


def _dodo(n: int) -> str:
    return f'''
import os
N = {n}
DOIT_CONFIG = {{"verbosity": 0}}

def _cp(src, dst):
    return f"mkdir -p {{os.path.dirname(dst)}} && cp {{src}} {{dst}}"

def task_a():
    for i in range(N):
        yield {{"name": str(i), "file_dep": [f"src/{{i}}.txt"], "targets": [f"a/{{i}}.txt"],
               "actions": [_cp(f"src/{{i}}.txt", f"a/{{i}}.txt")]}}

def task_b():
    for i in range(N):
        yield {{"name": str(i), "file_dep": [f"a/{{i}}.txt"], "targets": [f"b/{{i}}.txt"],
               "actions": [_cp(f"a/{{i}}.txt", f"b/{{i}}.txt")]}}

def task_g():
    for k in range(0, N, 100):
        deps = [f"b/{{i}}.txt" for i in range(k, min(k + 100, N))]
        yield {{"name": str(k // 100), "file_dep": deps, "targets": [f"g/{{k // 100}}.txt"],
               "actions": ["mkdir -p g && cat " + " ".join(deps) + f" > g/{{k // 100}}.txt"]}}

def task_all():
    deps = [f"g/{{k}}.txt" for k in range((N + 99) // 100)]
    return {{"file_dep": deps, "targets": ["all.txt"], "actions": ["cat " + " ".join(deps) + " > all.txt"]}}
'''


def _snakefile(n: int) -> str:
    return f'''
N = {n}
GROUPS = (N + 99) // 100

rule all_txt:
    input: expand("g/{{k}}.txt", k=range(GROUPS))
    output: "all.txt"
    shell: "cat {{input}} > {{output}}"

rule g:
    input: lambda wc: expand("b/{{i}}.txt", i=range(int(wc.k) * 100, min(int(wc.k) * 100 + 100, N)))
    output: "g/{{k}}.txt"
    shell: "cat {{input}} > {{output}}"

rule b:
    input: "a/{{i}}.txt"
    output: "b/{{i}}.txt"
    shell: "cp {{input}} {{output}}"

rule a:
    input: "src/{{i}}.txt"
    output: "a/{{i}}.txt"
    shell: "cp {{input}} {{output}}"
'''


def command(tool: str, bin_dir: Path, jobs: int) -> list[str]:
    if tool == "datamake":
        return [str(bin_dir / "datamake"), "-q", "-j", str(jobs)]
    if tool == "make":
        return ["make", "-s", f"-j{jobs}"]
    if tool == "doit":
        return [str(bin_dir / "doit"), "-n", str(jobs), "-P", "thread"]
    return [str(bin_dir / "snakemake"), "all.txt", "--cores", str(jobs), "--quiet"]


def clean(root: Path) -> None:
    for name in ("a", "b", "g", ".datamake", ".snakemake"):
        shutil.rmtree(root / name, ignore_errors=True)
    for name in ("all.txt", ".doit.db", ".doit.db.db", ".doit.db.dat", ".doit.db.dir", ".doit.db.bak"):
        try:
            (root / name).unlink()
        except FileNotFoundError:
            pass


def measure(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run, from the kernel's accounting of that child."""
    # stderr goes to a file: a pipe nobody reads until the end fills up and stalls a chatty tool
    # (Snakemake prints a line per scheduling round even with --quiet).
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            err = errors.read().decode(errors="replace")[-500:]
            raise RuntimeError(f"{' '.join(cmd[:2])} failed ({proc.returncode}): {err}")
    return elapsed, usage.ru_maxrss / 1024


def bench_tool(tool: str, bin_dir: Path, root: Path, repeat: int, full: bool) -> dict:
    """Median full build at -j2 (when `full`) and median no-op of one tool on `root`."""
    result: dict = {}
    if full:
        runs = []
        for _ in range(repeat):
            clean(root)
            runs.append(measure(command(tool, bin_dir, 2), root))
        result["full"] = statistics.median(r[0] for r in runs)
        result["full_mb"] = max(r[1] for r in runs)
    else:
        clean(root)
        measure(command(tool, bin_dir, 2), root)
    if not (root / "all.txt").exists():
        raise RuntimeError(f"{tool} did not build all.txt")
    runs = [measure(command(tool, bin_dir, 1), root) for _ in range(repeat)]
    result["noop"] = statistics.median(r[0] for r in runs)
    result["noop_mb"] = max(r[1] for r in runs)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--write-readme", action="store_true")
    opts = ap.parse_args()
    bin_dir = ensure_venv()
    rows = []
    for n in (int(s) for s in opts.sizes.split(",")):
        root = WORK / f"n{n}"
        generate(root, n)
        for tool in opts.tools.split(","):
            if tool == "snakemake" and n > 1000:
                print(f"snakemake N={n}: skipped (its full build of 2,011 steps already takes minutes)",
                      file=sys.stderr)
                continue
            try:
                repeat = 1 if tool == "snakemake" else opts.repeat
                res = bench_tool(tool, bin_dir, root, repeat, full=(n <= 1000))
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"{tool} N={n}: {exc}", file=sys.stderr)
                continue
            rows.append((n, tool, res))
            print(n, tool, {k: round(v, 3) for k, v in res.items()}, flush=True)
    table = render(rows)
    print(table)
    if opts.write_readme:
        write_readme(table)
    return 0


def render(rows: list) -> str:
    """A markdown table with each figure and its ratio to make and to doit (same run)."""
    by = {(n, t): r for n, t, r in rows}
    lines = ["| N (steps) | tool | full -j2 s | vs make | no-op s | vs make | vs doit | no-op peak MB |",
             "|---|---|---|---|---|---|---|---|"]
    for n, tool, r in rows:
        make = by.get((n, "make"), {})
        doit = by.get((n, "doit"), {})

        def ratio(key: str, peer: dict) -> str:
            return f"{r[key] / peer[key]:.2f}x" if key in r and peer.get(key) else "-"

        full = f"{r['full']:.2f}" if "full" in r else "-"
        lines.append(f"| {n} ({2 * n + n // 100 + 1}) | {tool} | {full} | {ratio('full', make)} | "
                     f"{r['noop']:.3f} | {ratio('noop', make)} | {ratio('noop', doit)} | {r['noop_mb']:.0f} |")
    return "\n".join(lines)


def write_readme(table: str) -> None:
    """Replace the build-bench section of bench/README.md with this run's table."""
    path = HERE / "README.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = "<!-- build-bench -->", "<!-- /build-bench -->"
    section = f"{start}\n{table}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text += f"\n## Local builds (bench/build_bench.py)\n\n{section}\n"
    path.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())

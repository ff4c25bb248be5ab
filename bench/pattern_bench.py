"""Pattern steps: datamake against make (a pattern rule) and Snakemake (wildcards) on one workflow.

N files `raw/i.csv` -> `clean/i.csv` (one pattern step, `tail -n +2`) -> `all.csv` (one merge over
every clean file, catted by a glob in each tool, since 10,000 names are more than one shell
argument may hold): N + 1 steps. Full build at -j2 and no-op, tools alternating per repetition,
medians of per-repetition ratios against the faster peer.

Usage: python bench/pattern_bench.py [--sizes 500,10000] [--repeat 3] [--tools datamake,make,snakemake]
Peers run from bench/.venv (created on first use, see build_bench.py).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

from build_bench import ROOT, WORK, empty_trash, ensure_venv, measure, move_aside

TOOLS = ("datamake", "make", "snakemake")

DRAKEFILE = """\
clean/{name}.csv <- raw/{name}.csv
  tail -n +2 $INPUT > $OUTPUT

all.csv <- clean/{name}.csv
  cat clean/*.csv > $OUTPUT
"""

MAKEFILE = """\
RAW := $(wildcard raw/*.csv)
CLEAN := $(patsubst raw/%.csv,clean/%.csv,$(RAW))

all.csv: $(CLEAN)
\tcat clean/*.csv > $@

clean/%.csv: raw/%.csv
\t@mkdir -p clean
\ttail -n +2 $< > $@
"""

SNAKEFILE = """\
NAMES, = glob_wildcards("raw/{name}.csv")

rule all_csv:
    input: expand("clean/{name}.csv", name=NAMES)
    output: "all.csv"
    shell: "cat clean/*.csv > {output}"

rule clean:
    input: "raw/{name}.csv"
    output: "clean/{name}.csv"
    shell: "tail -n +2 {input} > {output}"
"""


def generate(root: Path, n: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "raw").mkdir(parents=True)
    for i in range(n):
        (root / "raw" / f"f{i:05d}.csv").write_text(f"h\n{i}\n")
    (root / "Drakefile").write_text(DRAKEFILE)
    (root / "Makefile").write_text(MAKEFILE)
    (root / "Snakefile").write_text(SNAKEFILE)


def command(tool: str, bin_dir: Path, jobs: int) -> list[str]:
    if tool == "datamake":  # this checkout, as build_bench runs it
        return [sys.executable, "-m", "datamake", "-q", "-j", str(jobs)]
    if tool == "make":
        return ["make", "-s", f"-j{jobs}", "all.csv"]
    return [str(bin_dir / "snakemake"), "all.csv", "--cores", str(jobs), "--quiet"]


def clean(root: Path) -> None:
    for name in ("clean", ".datamake", ".snakemake"):
        move_aside(root / name)  # deleted when the bench ends, as build_bench does (see its clean)
    (root / "clean").mkdir()  # make's pattern rule and Snakemake both expect to write into it
    if (root / "all.csv").exists():
        (root / "all.csv").unlink()


def one_round(tools: list[str], bin_dir: Path, root: Path) -> dict[str, dict[str, float]]:
    """Each tool once: a full build at -j2, then a no-op (datamake's twice: with its proof, then deciding in full)."""
    times: dict[str, dict[str, float]] = {}
    for tool in tools:
        clean(root)
        full = measure(command(tool, bin_dir, 2), root, str(ROOT))
        if not (root / "all.csv").exists():
            raise RuntimeError(f"{tool} did not build all.csv")
        noop = measure(command(tool, bin_dir, 1), root, str(ROOT))
        times[tool] = {"full": full["wall"], "noop": noop["wall"], "noop_mb": noop["mb"]}
        if tool == "datamake":
            shutil.rmtree(root / ".datamake" / "noop", ignore_errors=True)
            times[tool]["decide"] = measure(command(tool, bin_dir, 1), root, str(ROOT))["wall"]
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    opts = ap.parse_args()
    bin_dir = ensure_venv(opts.tools.split(","))
    tools = opts.tools.split(",")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    for n in (int(s) for s in opts.sizes.split(",")):
        root = WORK / f"pattern-{n}"
        generate(root, n)
        rounds = []
        for r in range(opts.repeat):
            order = tools[r % len(tools):] + tools[:r % len(tools)]  # alternate who goes first
            rounds.append(one_round(order, bin_dir, root))
        _report(n, tools, rounds)
    empty_trash()
    return 0


def _report(n: int, tools: list[str], rounds: list[dict]) -> None:
    print(f"\nN={n} files ({n + 1} steps), median of {len(rounds)} rounds")
    for tool in tools:
        full = statistics.median(r[tool]["full"] for r in rounds)
        noop = statistics.median(r[tool]["noop"] for r in rounds)
        print(f"  {tool:10s} full -j2 {full:7.2f} s   no-op {noop:6.3f} s   peak {rounds[-1][tool]['noop_mb']:.0f} MB")
    peers = [t for t in tools if t != "datamake"]
    if "datamake" not in tools or not peers:
        return
    print(f"  datamake no-op deciding in full (no proof): {statistics.median(r['datamake']['decide'] for r in rounds):.3f} s")
    for kind, mine in (("full", "full"), ("noop", "noop"), ("noop", "decide")):
        ratios = [r["datamake"][mine] / min(r[p][kind] for p in peers) for r in rounds]
        label = "no-op deciding in full" if mine == "decide" else kind
        print(f"  datamake / faster peer, {label}: {statistics.median(ratios):.2f}x "
              f"(range {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    raise SystemExit(main())

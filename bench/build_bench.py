"""Full-build and no-op timings of datamake against GNU make, ninja, doit and Snakemake on one workflow.

The workflow (N sources): `a/i <- src/i` (cp), `b/i <- a/i` (cp), groups of 100 `b` files
catted into `g/k`, all `g` files catted into `all.txt`: 2N + N/100 + 1 steps.

Usage: python bench/build_bench.py [--sizes 1000,10000] [--repeat 5] [--full-sizes 1000]
       [--tools datamake,make,ninja,doit[,datamake@DIR]] [--write-readme]
(`datamake@DIR` runs the datamake found in DIR as one more tool: before-and-after in one run.)
datamake's no-op is timed twice: as a user repeats it (answered by the no-op proof the build
left, see the README's "When a step runs") and deciding in full (the proof removed first).
Each repetition runs every tool once, in an order that rotates from one repetition to the next,
so a burst of load from elsewhere on the machine falls on every tool alike; ratios are taken per
repetition (datamake's time over the peer's in the same repetition), then their median and range.
datamake is this checkout, run by the current Python; doit and Snakemake come from bench/.venv
(created on first use), make and ninja from the system (Debian's `make` and `ninja-build`).
"""
from __future__ import annotations

import argparse
import os
import platform
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
TOOLS = ("datamake", "make", "ninja", "doit")
PEER_TIMEOUT = 600


def ensure_venv(tools: list[str]) -> Path:
    """The bench's own venv with the Python peers that `tools` names."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted = [t for t in ("doit", "snakemake") if t in tools]
    if wanted and subprocess.run([str(python), "-c", "import " + ", ".join(wanted)], capture_output=True).returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)
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
    (root / "build.ninja").write_text(_ninja(n, groups))


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
    lines = [".PHONY: everything", "everything: all.txt", ""]
    lines += ["a/%.txt: src/%.txt", "\t@mkdir -p a && cp $< $@", ""]
    lines += ["b/%.txt: a/%.txt", "\t@mkdir -p b && cp $< $@", ""]
    for k, members in enumerate(groups):
        deps = " ".join(f"b/{i}.txt" for i in members)
        lines += [f"g/{k}.txt: {deps}", "\t@mkdir -p g && cat $^ > $@", ""]
    deps = " ".join(f"g/{k}.txt" for k in range(len(groups)))
    lines += [f"all.txt: {deps}", "\t@cat $^ > $@", ""]
    return "\n".join(lines)


def _ninja(n: int, groups: list[list[int]]) -> str:
    # ninja makes the output folders itself; its commands always go through /bin/sh -c.
    lines = ["rule cp", "  command = cp $in $out", "rule cat", "  command = cat $in > $out", ""]
    for i in range(n):
        lines += [f"build a/{i}.txt: cp src/{i}.txt", f"build b/{i}.txt: cp a/{i}.txt"]
    for k, members in enumerate(groups):
        lines.append(f"build g/{k}.txt: cat " + " ".join(f"b/{i}.txt" for i in members))
    lines.append("build all.txt: cat " + " ".join(f"g/{k}.txt" for k in range(len(groups))))
    lines.append("default all.txt")
    return "\n".join(lines) + "\n"


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
    if tool.startswith("datamake"):  # `datamake@DIR`: another checkout of datamake, say the one before a change
        return [sys.executable, "-m", "datamake", "-q", "-j", str(jobs)]
    if tool == "make":
        return ["make", "-s", f"-j{jobs}"]
    if tool == "ninja":
        return ["ninja", "--quiet", f"-j{jobs}"]
    if tool == "doit":
        return [str(bin_dir / "doit"), "-n", str(jobs), "-P", "thread"]
    return [str(bin_dir / "snakemake"), "all.txt", "--cores", str(jobs), "--quiet"]


def clean(root: Path) -> None:
    """Remove a build's outputs before the next tool builds. The folders are moved aside and deleted
    only when the bench ends: ext4 avoids reusing an inode freed in the last half minute, and a
    search past 20,000 of them slowed whichever tool came right after a deletion (a round's first
    tool never did), more than the tools differ."""
    for name in ("a", "b", "g", ".datamake", ".snakemake"):
        move_aside(root / name)
    for name in ("all.txt", ".ninja_log", ".ninja_deps", ".doit.db", ".doit.db.db", ".doit.db.dat",
                 ".doit.db.dir", ".doit.db.bak"):
        try:
            (root / name).unlink()
        except FileNotFoundError:
            pass


TRASH = WORK / "trash"


def move_aside(path: Path) -> None:
    """Move a folder into the bench's trash (see clean); empty_trash deletes it when the bench ends."""
    if path.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        path.rename(TRASH / f"{path.parent.name}-{path.name}-{time.monotonic_ns()}")


def empty_trash() -> None:
    shutil.rmtree(TRASH, ignore_errors=True)


def measure(cmd: list[str], cwd: Path, source: str) -> dict:
    """Wall seconds, CPU seconds (user+sys of the tool and every process it waited for), peak RSS (MB)
    and the 1-minute load average of one run, from the kernel's accounting of that child."""
    # stderr goes to a file: a pipe nobody reads until the end fills up and stalls a chatty tool
    # (Snakemake prints a line per scheduling round even with --quiet).
    env = dict(os.environ, PYTHONPATH=source)
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            err = errors.read().decode(errors="replace")[-500:]
            raise RuntimeError(f"{' '.join(cmd[:2])} failed ({os.waitstatus_to_exitcode(status)}): {err}")
    return {"wall": elapsed, "cpu": usage.ru_utime + usage.ru_stime, "mb": usage.ru_maxrss / 1024,
            "load": os.getloadavg()[0]}


def one_round(tools: list[str], bin_dir: Path, root: Path, full: bool) -> dict:
    """One repetition: each tool's full build at -j2 (when `full`) and its no-op at -j1."""
    out: dict = {}
    for tool in tools:
        clean(root)
        source = tool.partition("@")[2] or str(ROOT)
        build = measure(command(tool, bin_dir, 2), root, source)
        if not (root / "all.txt").exists():
            raise RuntimeError(f"{tool} did not build all.txt")
        out[tool] = {"noop": measure(command(tool, bin_dir, 1), root, source)}
        if tool.startswith("datamake"):  # the same no-op once more, deciding in full: no proof to check
            shutil.rmtree(root / ".datamake" / "noop", ignore_errors=True)
            out[tool]["decide"] = measure(command(tool, bin_dir, 1), root, source)
        if full:
            out[tool]["full"] = build
    return out


def bench_size(n: int, tools: list[str], bin_dir: Path, repeat: int, full: bool) -> tuple[list[dict], str]:
    root = WORK / f"n{n}"
    generate(root, n)
    rounds = []
    for r in range(repeat):
        order = tools[r % len(tools):] + tools[:r % len(tools)]  # who goes first rotates
        rounds.append(one_round(order, bin_dir, root, full))
        print(f"N={n} round {r + 1}/{repeat}:", {t: {k: round(v["wall"], 3) for k, v in m.items()}
                                                 for t, m in rounds[-1].items()}, f"load {os.getloadavg()[0]:.1f}",
              flush=True)
    imports = import_time(root) if "datamake" in tools else ""
    clean(root)
    return rounds, imports


def ratio_text(rounds: list[dict], tool: str, peer: str, kind: str, key: str = "wall") -> str:
    """Median of the per-round ratios tool/peer, with their range (a full decision against the peer's no-op)."""
    peer_kind = "noop" if kind == "decide" else kind
    ratios = sorted(r[tool][kind][key] / r[peer][peer_kind][key] for r in rounds)
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"


WORK_NAMES = {"full": "full -j2", "noop": "no-op", "decide": "no-op, no proof"}


def render(results: dict[int, list[dict]], tools: list[str]) -> str:
    """Medians per tool and datamake's ratios to each peer (per-round ratios: median and range)."""
    peers = [t for t in tools if t != "datamake"]
    lines = ["| N (steps) | work | tool | wall s | CPU s | peak MB | load | datamake / tool, wall | datamake / tool, CPU |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n, rounds in results.items():
        for kind in ("full", "noop", "decide"):
            if kind not in rounds[0]["datamake"]:
                continue
            for tool in tools:
                if kind not in rounds[0][tool]:
                    continue
                runs = [r[tool][kind] for r in rounds]
                wall, cpu = (statistics.median(m[k] for m in runs) for k in ("wall", "cpu"))
                loads = sorted(m["load"] for m in runs)
                rw = ratio_text(rounds, "datamake", tool, kind) if tool in peers else "-"
                rc = ratio_text(rounds, "datamake", tool, kind, "cpu") if tool in peers else "-"
                lines.append(f"| {n} ({2 * n + n // 100 + 1}) | {WORK_NAMES[kind]} | {tool} | "
                             f"{wall:.3f} | {cpu:.3f} | {max(m['mb'] for m in runs):.0f} | "
                             f"{loads[0]:.1f}-{loads[-1]:.1f} | {rw} | {rc} |")
    return "\n".join(lines)


def machine() -> str:
    def first_line(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return (f"{os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, "
            f"{first_line(['make', '--version'])}, ninja {first_line(['ninja', '--version'])}, "
            f"doit {first_line([str(VENV / 'bin' / 'doit'), '--version'])}")


def import_time(root: Path) -> str:
    """What a no-op imports (`python -X importtime`), deciding in full and answered by its proof."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    clean(root)
    subprocess.run([sys.executable, "-m", "datamake", "-q", "-j2"], cwd=root, env=env, check=True)
    shutil.rmtree(root / ".datamake" / "noop", ignore_errors=True)
    return "; ".join(f"{label}: {_imports(root, env)}" for label in ("deciding in full", "answered by its proof"))


def _imports(root: Path, env: dict) -> str:
    err = subprocess.run([sys.executable, "-X", "importtime", "-m", "datamake", "-q"], cwd=root, env=env,
                         capture_output=True, text=True).stderr
    rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:") and "cumulative" not in line]
    tops = [(int(cum), name.strip()) for _self, cum, name in rows if not name.startswith("  ")]
    slowest = ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in sorted(tops, reverse=True)[:3])
    return f"imports {sum(us for us, _ in tops) / 1000:.0f} ms in all (slowest: {slowest})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--full-sizes", default="1000", help="sizes that also time a full build")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--write-readme", action="store_true")
    opts = ap.parse_args()
    tools = opts.tools.split(",")
    bin_dir = ensure_venv(tools)
    full_sizes = {int(s) for s in opts.full_sizes.split(",") if s}
    results, imports = {}, []
    for n in (int(s) for s in opts.sizes.split(",")):
        results[n], line = bench_size(n, tools, bin_dir, opts.repeat, n in full_sizes)
        imports.append(f"N={n}: {line}")
    text = f"{machine()}\n" + "\n".join(imports) + f"\n\n{render(results, tools)}"
    print(text)
    empty_trash()
    if opts.write_readme:
        write_readme(text)
    return 0


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

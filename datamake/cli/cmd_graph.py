"""`--graph FORMAT`: the selected steps with their states (from a preview) and the last run."""
from __future__ import annotations

import argparse
import os
import sys

from datamake.build.builder import build as decide_build
from datamake.cli.loading import load
from datamake.errors import UsageError
from datamake.store.statedb import default_state_dir
from datamake.views.graph_render import choose_format, render
from datamake.views.graph_view import view_of_plan


def run(args: argparse.Namespace) -> int:
    """--graph: draw the selected steps with their states (from a preview) and the last run; exit 0."""
    fmt = choose_format(args.graph, args.output)
    workflow = load(args)
    state_dir = args.state_dir or default_state_dir(workflow.path)
    result = decide_build(workflow, args.targets, check=args.check or "timestamp", preview=True,
                          state_dir=state_dir)
    view = view_of_plan(result.plan, state_dir, workflow.directory, os.path.basename(workflow.directory))
    color = fmt == "text" and args.output is None and sys.stdout.isatty()
    _write_graph(render(view, fmt, color), args.output, fmt)
    return 0


def _write_graph(data: str | bytes, output: str | None, fmt: str) -> None:
    if output:
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        try:
            with open(output, "wb") as handle:
                handle.write(raw)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    elif isinstance(data, bytes):
        if sys.stdout.isatty():
            raise UsageError(f"--graph {fmt} is binary; write it to a file with -o graph.{fmt}")
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data)

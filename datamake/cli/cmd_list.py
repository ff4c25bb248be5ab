"""`--list [TARGETS]`: the steps (all, or those the targets select) with tags, state and reason; `--json` too."""
from __future__ import annotations

import argparse
import os
import sys

from datamake.cli.commands import load
from datamake.decide.preview import ReadOnlyState
from datamake.errors import warn
from datamake.graph.select import select
from datamake.graph.step_graph import build_graph
from datamake.views.step_list import render_json, render_text


def run(args: argparse.Namespace) -> int:
    workflow = load(args)
    sg = build_graph(workflow)
    selection = select(sg, args.targets, allow_broken=True)
    state_dir = os.path.abspath(args.state_dir) if args.state_dir else os.path.join(workflow.directory, ".datamake")
    with ReadOnlyState(state_dir, warn) as state:
        states = state.survey(sg, selection, args.check or "timestamp")
    render = render_json if args.json else render_text
    sys.stdout.write(render(states, workflow.directory))
    return 0

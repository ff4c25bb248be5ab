"""`--list [TARGETS]`: the steps (all, or those the targets select) with tags, state and reason; `--json` too."""
from __future__ import annotations

import argparse
import os
import sys

from datamake.cli.cmd_schedule import schedule_of, scheduled, shape
from datamake.cli.loading import load
from datamake.schedule import dated
from datamake.schedule.intervals import parse_time
from datamake.store.statedb import default_state_dir
from datamake.decide.preview import ReadOnlyState
from datamake.errors import UsageError, warn
from datamake.graph.select import select
from datamake.graph.step_graph import build_graph
from datamake.views.step_list import render_json, render_text


def run(args: argparse.Namespace) -> int:
    workflow = load_one_interval(args)
    sg = build_graph(workflow)
    selection = select(sg, args.targets, allow_broken=True)
    state_dir = os.path.abspath(args.state_dir) if args.state_dir else default_state_dir(workflow.path)
    with ReadOnlyState(state_dir, warn) as state:
        states = state.survey(sg, selection, args.check or "timestamp", workflow.storage)
    render = render_json if args.json else render_text
    sys.stdout.write(render(states, workflow.directory))
    return 0


def load_one_interval(args: argparse.Namespace):
    """The workflow; a dated one (names with $[DATE] & co) as the interval of `--date D`."""
    if not scheduled(args):
        return load(args)
    if not args.date:
        raise UsageError("the workflow's names use interval variables ($[DATE], ...)",
                         hint="name the interval with --date D")
    schedule = schedule_of(args, shape(args)).schedule
    workflow = load(args, schedule.containing(parse_time(args.date, schedule.tz)).variables())
    # As the runner does for a day that succeeded: an ingestion step whose files exist is not fetched again.
    return dated.adapt(workflow, {""}, lambda step: "")

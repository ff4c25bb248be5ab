"""`--print`: the evaluated workflow as text (highlighted on a terminal) or JSON."""
from __future__ import annotations

import argparse
import sys

from datamake.cli.loading import load
from datamake.views.workflow import render_json, render_text


def run(args: argparse.Namespace) -> int:
    workflow = load(args)
    for step in workflow.steps:  # printing shows every step: a broken one is an error as when selected
        if step.error is not None:
            raise step.error
    if args.json:
        sys.stdout.write(render_json(workflow))
    elif args.color == "always" or (args.color == "auto" and sys.stdout.isatty()):
        from datamake.views.highlight import highlight_workflow  # Pygments: loaded only to colour

        sys.stdout.write(highlight_workflow(render_text(workflow)))
    else:
        sys.stdout.write(render_text(workflow))
    return 0

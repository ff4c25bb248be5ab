"""`--pause` / `--resume`: a schedule's pause, kept in the state for every later tick and runner of the workflow."""
from __future__ import annotations

import argparse
import os

from datamake.cli.cmd_schedule import open_state, say, state_dir_of
from datamake.errors import UsageError
from datamake.language.load import workflow_path


def run(args: argparse.Namespace) -> int:
    if args.pause and args.resume:
        raise UsageError("--pause and --resume together: pick one")
    state = open_state(args, state_dir_of(args))
    try:
        state.set_paused(args.pause)
    finally:
        state.close()
    word = "paused: ticks build nothing until --resume" if args.pause else "resumed"
    say(args)(f"schedule of {os.path.relpath(workflow_path(args.workflow))} {word}")
    return 0

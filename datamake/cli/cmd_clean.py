"""`--clean [TARGETS]`: remove the outputs of the selected steps and forget their records; `-P` previews."""
from __future__ import annotations

import argparse
import json
import os
import sys

from datamake.build.clean import clean
from datamake.cli.cmd_list import load_one_interval
from datamake.store.statedb import default_state_dir
from datamake.build.records import stamped


def run(args: argparse.Namespace) -> int:
    workflow = load_one_interval(args)
    state_dir = os.path.abspath(args.state_dir) if args.state_dir else default_state_dir(workflow.path)
    result = clean(workflow, args.targets, state_dir=state_dir, preview=args.preview)
    if args.json:
        sys.stdout.write(json.dumps(stamped({"removed": result.removed, "forgotten": result.forgotten,
                                             "kept": [{"name": n, "why": w} for n, w in result.kept]})) + "\n")
        return 0
    verb = "would remove" if args.preview else "removed"
    lines = [f"{verb}: {name}" for name in result.removed]
    lines += [f"kept: {name} ({why})" for name, why in result.kept]
    steps = len(result.forgotten)
    lines.append(f"{'Would remove' if args.preview else 'Removed'} {len(result.removed)} output(s) of "
                 f"{steps} step(s){'' if args.preview else ' and forgot their records'}.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

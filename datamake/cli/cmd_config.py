"""`--print-config`: each project setting, its effective value and its source."""
from __future__ import annotations

import argparse
import json

from datamake.build.records import stamped
from datamake.cli.defaults import configurable, render
from datamake.cli.parser import build_parser


def run(args: argparse.Namespace) -> int:
    """`--print-config`: each project setting, its effective value and its source."""
    data = render(args.settings, args, configurable(build_parser()))
    if args.json:
        print(json.dumps(stamped(data)))
        return 0
    width = max(len(row["name"]) for row in data["settings"])
    for row in data["settings"]:
        value = "" if row["value"] is None else str(row["value"]).lower() if isinstance(row["value"], bool) \
            else str(row["value"])
        print(f"{row['name']:<{width}} = {value:<12} ({row['source']})")
    return 0

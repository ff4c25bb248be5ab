"""`--report html|json -o FILE` and `--serve`: every workflow named by -w, read from its state, never written."""
from __future__ import annotations

import argparse
import copy
import json
import glob
import os
import sys
from datetime import datetime, timezone

from datamake.cli.cmd_schedule import schedule_of, shape, state_dir_of
from datamake.cli.loading import load
from datamake.errors import DatamakeError, UsageError
from datamake.schedule import dated
from datamake.schedule.intervals import parse_time, zone
from datamake.views.history import Source
from datamake.views.report_page import render_page, report_data
from datamake.views.server import ReportServer

REPORT_FORMATS = ("html", "json")


def workflow_files(entries: list[str]) -> list[str]:
    """The workflow files -w names: a file, or a directory's Drakefile, *.drake files and its
    subdirectories' Drakefiles (so `-w examples` shows every example). Default: the current directory."""
    found: list[str] = []
    for entry in entries or ["."]:
        if os.path.isfile(entry):
            found.append(os.path.abspath(entry))
            continue
        if not os.path.isdir(entry):
            raise UsageError(f"workflow not found: {entry}")
        inside = [os.path.join(entry, "Drakefile"), *sorted(glob.glob(os.path.join(entry, "*.drake"))),
                  *sorted(glob.glob(os.path.join(entry, "*", "Drakefile")))]
        files = [os.path.abspath(p) for p in inside if os.path.isfile(p)]
        if not files:
            raise UsageError(f"no workflow in {entry}", hint="a directory holds a Drakefile, *.drake files, "
                             "or subdirectories with a Drakefile")
        found += files
    return list(dict.fromkeys(found))


def sources(args: argparse.Namespace) -> list[Source]:
    """One Source per workflow file; one that does not load is listed with its error."""
    return [_source(args, path) for path in workflow_files(args.workflows)]


def _source(args: argparse.Namespace, path: str) -> Source:
    one = copy.copy(args)
    one.workflow, one.targets = path, []
    state_dir = state_dir_of(one)
    try:
        workflow = shape(one)
        if workflow is None or not dated.dated_steps(workflow):
            return Source(path, state_dir, load(one))
        if args.schedule is None and not workflow.schedule:
            one.schedule = "daily"  # a dated workflow without %schedule is run with --date/--from: days
        decl = schedule_of(one, workflow)
        return Source(path, state_dir, workflow, decl.schedule, decl.start)
    except DatamakeError as err:
        return Source(path, state_dir, None, error=err.render().removeprefix("datamake: error: "))


def now_of(args: argparse.Namespace) -> datetime:
    return parse_time(args.now, zone(None)) if args.now else datetime.now(timezone.utc)


def run(args: argparse.Namespace) -> int:
    """--report html|json: the page (or its data) for every workflow, to -o FILE or stdout."""
    if args.report not in REPORT_FORMATS:
        raise UsageError(f"unknown report format: {args.report} (choose from {', '.join(REPORT_FORMATS)})")
    found = sources(args)
    data = report_data(found, now_of(args))
    title = ", ".join(w["name"] for w in data["workflows"])
    text = render_page(data, title) if args.report == "html" else json.dumps(data) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def serve(args: argparse.Namespace) -> int:
    """--serve: the same views, live, on http://HOST:PORT until interrupted; reads the state on each request."""
    paths = workflow_files(args.workflows)
    server = ReportServer((args.host, args.port), lambda: sources(args), lambda: now_of(args), paths)
    host, port = server.server_address[:2]
    print(f"datamake: serving {len(paths)} workflow(s) read-only on http://{host}:{port}/ (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0

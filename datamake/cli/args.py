"""argparse's Namespace -> the typed settings the library takes; read here once, never below `cli/`."""
from __future__ import annotations

import argparse
import sys

from datamake.settings import BuildSettings
from datamake.views.reporters import make_reporter


def build_settings(args: argparse.Namespace) -> BuildSettings:
    return BuildSettings(jobs=args.jobs, check=args.check or "timestamp", auto=args.auto, fail_fast=args.fail_fast,
                         executor=args.executor, scheduler_address=args.dask_scheduler)


def interval_reporter(args: argparse.Namespace):
    """The reporter of each interval a schedule builds: `reporter_for(preview)`."""
    def reporter_for(preview: bool):
        # --json keeps stdout for its one object; several intervals at once share plain lines.
        quiet = preview or args.quiet or args.json
        terminal = sys.stderr.isatty() and not quiet and args.max_active == 1
        return make_reporter(terminal, quiet, False, args.jobs)

    return reporter_for

"""argparse's Namespace -> the typed settings the library takes; read here once, never below `cli/`."""
from __future__ import annotations

import argparse
import sys

from datamake.build.pools import Pools, declared_pools, pools_of
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


def pools_for(args: argparse.Namespace, workflow) -> Pools:
    """The `%pool` slots of a run. On the local executor every `[pool:NAME]` must be declared; on Dask an
    undeclared pool stays a worker resource (`pool-NAME=1`), as before pools were declared."""
    if args.executor == "dask" or args.dask_scheduler:
        return declared_pools(workflow)
    return pools_of(workflow)

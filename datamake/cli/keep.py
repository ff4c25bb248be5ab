"""`--keep 90d` (or `%schedule keep:90d`): the history a run leaves behind, pruned at its end."""
from __future__ import annotations

import argparse
import sys
import time

from datamake.build.lock import acquire_lock, open_store
from datamake.errors import UsageError
from datamake.language.options import duration_seconds
from datamake.store.retention import prune


def keep_history(args: argparse.Namespace, state_dir: str, declared: float | None = None) -> None:
    """`--keep 90d` (or `%schedule keep:90d`): prune older run history and logs at the end of a run."""
    keep = duration_seconds(args.keep, "--keep", None) if args.keep else declared
    if not keep:
        return
    try:
        with acquire_lock(state_dir):
            store = open_store(state_dir)
            try:
                pruned = prune(store.db, state_dir, keep, time.time())
            finally:
                store.close()
    except UsageError:
        return  # another datamake holds the lock now: the next run prunes
    if pruned.problem:
        print(f"datamake: warning: run history in {state_dir}/state.db is damaged ({pruned.problem})",
              file=sys.stderr)
    if (pruned.runs or pruned.logs) and not args.quiet:
        age = args.keep or (f"{keep / 86400:g}d" if keep >= 86400 else f"{keep:g}s")
        print(f"datamake: history older than {age} pruned: {pruned.runs} run(s), "
              f"{pruned.attempts} step attempt(s), {pruned.logs} log file(s)" +
              (", vacuumed the state database" if pruned.vacuumed else ""), file=sys.stderr)

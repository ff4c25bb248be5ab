"""Typed settings: what the command line (or the API) asked of a build, read once from argv in `cli/`.

Nothing below `cli/` sees an argparse Namespace; it receives these frozen objects.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildSettings:
    """How each build runs: `-j`, `--check`, `-a`, `--fail-fast`, `--executor`, `--dask-scheduler`."""

    jobs: int = 1
    check: str = "timestamp"
    auto: bool = False
    fail_fast: bool = False
    executor: str = "local"
    scheduler_address: str | None = None

"""The one place an executor is chosen: local processes, or a Dask cluster."""
from __future__ import annotations

from typing import Iterable

from datamake.build.executors.base import Executor
from datamake.build.executors.local import LocalExecutor, OutputCallback
from datamake.build.executors.resources import step_resources
from datamake.model import Step

EXECUTORS = ("local", "dask")


def make_executor(jobs: int, on_output: OutputCallback | None = None, *, kind: str = "local",
                  scheduler_address: str | None = None, steps: Iterable[Step] = ()) -> Executor:
    """`--executor`: where steps run, `jobs` at a time; each passes a step's output lines to `on_output`.

    `steps` are checked first: a bad `resources:` is a workflow error before anything runs.
    """
    for step in steps:
        step_resources(step)
    if kind == "dask" or scheduler_address:
        # An optional extra: `distributed` is imported only when a Dask executor is asked for.
        from datamake.build.executors.dask import DaskExecutor

        return DaskExecutor(jobs, scheduler_address=scheduler_address, on_output=on_output)
    return LocalExecutor(jobs, on_output=on_output)

"""A step's `resources:` and `pool:` options as named amounts a cluster can reserve (Dask worker resources)."""
from __future__ import annotations

from datamake.errors import WorkflowError
from datamake.model import Step


def step_resources(step: Step) -> dict[str, float]:
    """`resources:"GPU=1,MEM=4e9"` plus `pool:NAME` (as `pool-NAME=1`); a bad amount is an error at the step."""
    return parse_resources(step.options.resources, step.options.pool, step)


def parse_resources(resources: str | None, pool: str | None, step: Step | None = None) -> dict[str, float]:
    """Parse `NAME=AMOUNT` items (a bare NAME means 1) and add the pool, if any."""
    wanted: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in (resources or "").split(","))):
        name, sep, amount = item.partition("=")
        try:
            wanted[name.strip()] = float(amount) if sep else 1.0
        except ValueError:
            raise WorkflowError(f"bad resource amount: {item!r} (write NAME=NUMBER, e.g. GPU=1)",
                                loc=step.loc if step else None) from None
    if pool:
        wanted[f"pool-{pool}"] = 1.0
    return wanted

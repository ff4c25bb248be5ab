"""datamake: a Make/Drake-style build tool for data.

Python API (imported on first use, so `datamake --version` stays fast)::

    import datamake

    flow = datamake.load("Drakefile", variables={"YEAR": 2026})  # a Workflow, as with --var YEAR=2026
    result = datamake.run(flow, ["report.csv"], jobs=4)  # or datamake.run("path/to/Drakefile")
    result.ok, result.ran, result.failed, result.skipped  # step indexes, 0-based, file order
    for step, reason in datamake.run(flow, preview=True).plan: print(step.label(), reason)

`run` is the `datamake` command without its argument parsing: the same selection, decisions,
state directory and lock; failed steps are in the result, workflow errors raise DatamakeError.
The builder underneath is `datamake.build.build`; the API calls its entry point `run` because
`datamake.build` is that module's name.
"""

__version__ = "0.1.0"
__all__ = ["DatamakeError", "Flow", "StepContext", "load", "render_graph", "run"]

_LAZY = {"load": "api", "run": "api", "render_graph": "api", "DatamakeError": "errors", "Flow": "flow",
         "StepContext": "flow"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'datamake' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

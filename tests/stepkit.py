"""Build model.Workflow objects by hand for unit tests of the deciding code."""
from __future__ import annotations

import os

from datamake.errors import SourceLocation
from datamake.model import Options, Step, Target, Workflow


def wf(directory: str, *specs: tuple) -> Workflow:
    """Each spec is (outputs, inputs) or (outputs, inputs, options-dict); names may be %tags or ?optional."""
    steps = tuple(_step(directory, i, spec) for i, spec in enumerate(specs))
    return Workflow(path=os.path.join(directory, "Drakefile"), directory=directory, steps=steps)


def _step(directory: str, index: int, spec: tuple) -> Step:
    outs, ins = spec[0], spec[1]
    opts = dict(spec[2]) if len(spec) > 2 else {}
    def files(names):
        return tuple(Target(os.path.normpath(os.path.join(directory, n.lstrip("?"))), n.lstrip("?"),
                            optional=n.startswith("?")) for n in names if not n.startswith("%"))
    def tags(names):
        return tuple(n[1:] for n in names if n.startswith("%"))
    body = opts.pop("body", "echo hi")
    return Step(index=index, outputs=files(outs), inputs=files(ins), output_tags=tags(outs),
                input_tags=tags(ins), options=Options(given=opts, **{k.replace("-", "_"): v for k, v in opts.items()}),
                body_parts=(body,), vars={}, workdir=directory,
                loc=SourceLocation(os.path.join(directory, "Drakefile"), index + 1, 1))

"""How a step is shown: its header `outputs <- inputs`, its JSON record, and the preview of a plan."""
from __future__ import annotations

from typing import Any, Iterable

from datamake.graph.step_graph import tag_key
from datamake.build.records import stamped
from datamake.model import Step, Target, relative_to


def names(step: Step, inputs: bool, directory: str | None = None, marks: bool = False) -> list[str]:
    """The step's input (or output) files relative to `directory` (default: the step's own), then its tags;
    with `marks`, `?` before optional inputs as they were written."""
    targets, tags = (step.inputs, step.input_tags) if inputs else (step.outputs, step.output_tags)
    return file_names(targets, directory or step.workdir, marks) + ["%" + tag_key(t) for t in tags]


def file_names(targets: Iterable[Target], directory: str, marks: bool = False) -> list[str]:
    return [("?" if marks and t.optional else "") + relative_to(t.name, directory) for t in targets]


def header(step: Step, directory: str | None = None, marks: bool = False) -> str:
    """`outputs <- inputs` as a user would write it (names relative to `directory`, default the step's)."""
    outputs, inputs = ", ".join(names(step, False, directory)), ", ".join(names(step, True, directory, marks))
    return f"{outputs} <- {inputs}".strip()


def step_json(step: Step, directory: str | None = None) -> dict:
    """The start of every JSON record of a step: index, output files and input files (tags apart)."""
    directory = directory or step.workdir
    return {"index": step.index, "outputs": file_names(step.outputs, directory),
            "inputs": file_names(step.inputs, directory)}


def decision_json(step: Step, reason: Any, evidence: bool = False) -> dict:
    """A step's record with the decision about it: its reason's label, and with `evidence` the evidence."""
    record = {**step_json(step), "label": step.label(), "tags": list(step.output_tags), "reason": reason.label}
    if evidence:
        record["evidence"] = reason.evidence
    return record


def format_plan(pairs: list[tuple[Step, Any]], why: bool = False) -> str:
    """The preview: wanted steps in order with their reasons; with `why`, every decision and its evidence."""
    wanted = [(s, r) for s, r in pairs if r.dirty]
    lines = ["The following steps will be run, in order:"] if wanted else ["Nothing to do."]
    lines += [f"  {n}: {header(s)} [{r.label}]" + (f"\n       {r.evidence}" if why and r.evidence else "")
              for n, (s, r) in enumerate(wanted, 1)]
    if why:
        lines += [f"  up to date: {header(s)}" + (f"\n       {r.evidence}" if r.evidence else "")
                  for s, r in pairs if not r.dirty]
    return "\n".join(lines) + "\n"


def preview_json(pairs: list[tuple[Step, Any]], why: bool = False) -> dict:
    """`-P --json`: {"steps": the wanted steps}; with `why`, each step also carries its evidence
    and the steps found up to date follow under "up_to_date"."""
    steps = {"steps": [decision_json(s, r, why) for s, r in pairs if r.dirty]}
    if why:
        steps["up_to_date"] = [decision_json(s, r, why) for s, r in pairs if not r.dirty]
    return stamped(steps)

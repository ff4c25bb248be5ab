"""`--print`: the evaluated workflow as readable text or as one JSON object (SPEC §5)."""
from __future__ import annotations

import json

from datamake.model import Step, Workflow, relative_to


def _names(step: Step, workflow: Workflow, inputs: bool) -> list[str]:
    targets = step.inputs if inputs else step.outputs
    return [relative_to(t.name, workflow.directory) for t in targets]


def _option_text(key: str, value) -> str:
    if value is True:
        return f"+{key}"
    if value is False:
        return f"-{key}"
    text = str(value)
    if not text or any(ch in text for ch in " \t\"'[];"):
        text = json.dumps(text)
    return f"{key}:{text}"


def _header(step: Step, workflow: Workflow) -> str:
    outs = _names(step, workflow, False) + ["%" + t for t in step.output_tags]
    ins = [("?" if t.optional else "") + name
           for t, name in zip(step.inputs, _names(step, workflow, True))]
    ins += ["%" + t for t in step.input_tags]
    given = dict(step.options.given)
    given.pop("protocol", None)
    opts = [step.protocol] + [_option_text(k, v) for k, v in given.items()]
    words = [", ".join(outs), "<-", ", ".join(ins), f"[{' '.join(opts)}]"]
    return " ".join(word for word in words if word)


def render_text(workflow: Workflow) -> str:
    """One header line per step (index, names, options) with its body indented below."""
    lines: list[str] = []
    for step in workflow.steps:
        lines.append(f"{step.index}: {_header(step, workflow)}")
        lines.extend("    " + line if line else "" for line in step.body.split("\n"))
    if workflow.schedule:
        extra = " ".join(f"{k}:{v}" for k, v in workflow.schedule.items() if k != "spec")
        lines.append(f"%schedule {workflow.schedule['spec']} {extra}".rstrip())
    return "\n".join(lines) + ("\n" if lines else "")


def step_json(step: Step, workflow: Workflow) -> dict:
    """The SPEC §5 `--print --json` record of one step."""
    return {
        "index": step.index,
        "outputs": _names(step, workflow, False),
        "inputs": _names(step, workflow, True),
        "output_tags": list(step.output_tags),
        "input_tags": list(step.input_tags),
        "protocol": step.protocol,
        "options": dict(step.options.given),
        "body": step.body,
        "vars": dict(step.vars),
    }


def render_json(workflow: Workflow) -> str:
    """`{"steps": [...]}` as one line of JSON plus a newline."""
    return json.dumps({"steps": [step_json(s, workflow) for s in workflow.steps]}) + "\n"

"""`--print`: the evaluated workflow as readable text or as one JSON object (SPEC §5)."""
from __future__ import annotations

import json

from datamake.model import Step, Workflow
from datamake.views.steps import header, step_json
from datamake.build.records import stamped


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
    given = dict(step.options.given)
    given.pop("protocol", None)
    opts = [step.protocol] + [_option_text(k, v) for k, v in given.items()]
    return f"{header(step, workflow.directory, marks=True)} [{' '.join(opts)}]"


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


def printed_step(step: Step, workflow: Workflow) -> dict:
    """The SPEC §5 `--print --json` record of one step."""
    return {
        **step_json(step, workflow.directory),
        "output_tags": list(step.output_tags),
        "input_tags": list(step.input_tags),
        "protocol": step.protocol,
        "options": dict(step.options.given),
        "body": step.body,
        "vars": dict(step.vars),
    }


def render_json(workflow: Workflow) -> str:
    """`{"steps": [...]}` as one line of JSON plus a newline."""
    return json.dumps(stamped({"steps": [printed_step(s, workflow) for s in workflow.steps]})) + "\n"

"""`--list`: every selected step with its tags, its state (will run, up to date, broken, blocked) and the reason."""
from __future__ import annotations

import json

from datamake.decide.survey import StepState
from datamake.graph.step_graph import tag_key
from datamake.views.steps import header, step_json
from datamake.build.records import stamped


def render_text(states: list[StepState], directory: str) -> str:
    """One line per step: index, `outputs, %tags <- inputs`, then its state and reason, in columns."""
    if not states:
        return "No steps.\n"
    heads = [header(s.step, directory, marks=True) for s in states]
    width = min(max(len(h) for h in heads), 60)
    digits = len(str(max(s.step.index for s in states)))
    lines = []
    for state, head in zip(states, heads):
        detail = state.state if state.state == "up to date" else f"{state.state}: {state.reason}"
        lines.append(f"{state.step.index:>{digits}}  {head:<{width}}  {detail}")
    return "\n".join(lines) + "\n"


def render_json(states: list[StepState], directory: str) -> str:
    """{"steps": [{"index", "outputs", "inputs", "tags", "state", "reason", "evidence"}]}."""
    steps = [{**step_json(s.step, directory), "tags": [tag_key(t) for t in s.step.output_tags],
              "state": s.state, "reason": s.reason, "evidence": s.evidence} for s in states]
    return json.dumps(stamped({"steps": steps})) + "\n"

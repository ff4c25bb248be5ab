"""--graph: the GraphView (what to draw) built from a plan and the last run; viz_render draws it."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

from datamake.build.attempt_logs import read_tail
from datamake.model import Step, relative_to
from datamake.store.statedb import StateStore, StepAttempt, step_key
from datamake.views.steps import names

WILL_RUN = "will run"
UP_TO_DATE = "up to date"
FAILED = "failed last run"
NEVER_RUN = "never run"
STATES = (WILL_RUN, UP_TO_DATE, FAILED, NEVER_RUN)

# fill, border: one palette shared by every renderer so the legend means the same everywhere.
COLOURS: Mapping[str, tuple[str, str]] = {
    WILL_RUN: ("#fef3c7", "#d97706"),
    UP_TO_DATE: ("#dcfce7", "#16a34a"),
    FAILED: ("#fee2e2", "#dc2626"),
    NEVER_RUN: ("#f3f4f6", "#6b7280"),
    "file": ("#ffffff", "#64748b"),
    "tag": ("#ede9fe", "#7c3aed"),
}

# Attempt outcomes the state store records that mean the step did its job.
SUCCESS_OUTCOMES = frozenset({"ok", "success", "succeeded", "skipped", "cutoff"})
LOG_TAIL_LINES = 20  # of the last LOG_TAIL_BYTES of a step's log, in its details panel
LOG_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Node:
    """A step, file or tag. Steps carry their state and what the details panel shows."""

    id: str
    kind: str  # "step" | "file" | "tag"
    label: str
    state: str | None = None
    reason: str | None = None
    command: str = ""
    protocol: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    location: str = ""
    log_tail: str = ""

    @property
    def state_text(self) -> str:
        """`will run: missing output`, `up to date`, ..."""
        if self.state == WILL_RUN and self.reason:
            return f"{WILL_RUN}: {self.reason}"
        if self.state == FAILED and self.reason:
            return f"{FAILED}, {WILL_RUN}: {self.reason}"
        return self.state or ""


@dataclass(frozen=True)
class Bar:
    """One attempt of the last run: a bar of the timeline, times in epoch seconds."""

    node: str
    label: str
    started: float
    finished: float
    outcome: str

    @property
    def ok(self) -> bool:
        return is_success(self.outcome)


@dataclass(frozen=True)
class GraphView:
    """Everything a renderer draws: nodes, edges (src id, dst id) and the last run's timeline."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    timeline: tuple[Bar, ...] = ()

    def steps(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "step"]

    def counts(self) -> dict[str, int]:
        """Steps per state, in legend order."""
        found = [n.state for n in self.steps()]
        return {state: found.count(state) for state in STATES}


def is_success(outcome: str | None) -> bool:
    return outcome is not None and outcome.lower() in SUCCESS_OUTCOMES


def step_id(step: Step) -> str:
    return f"s{step.index}"


def step_state(step: Step, will_run: Mapping[int, str], last_outcomes: Mapping[int, str]) -> tuple[str, str | None]:
    """(state, reason): a failed last attempt shows first, since a failed step is usually due
    again anyway (its outputs are missing); the reason is set whenever the plan would run it."""
    reason = will_run.get(step.index)
    outcome = last_outcomes.get(step.index)
    if outcome is not None and not is_success(outcome):
        return FAILED, reason
    if step.index in will_run:
        return WILL_RUN, reason
    return (NEVER_RUN if outcome is None else UP_TO_DATE), None


def build_view(steps: Sequence[Step], will_run: Mapping[int, str], last_outcomes: Mapping[int, str],
               attempts: Iterable[StepAttempt] = (), directory: str = "", title: str = "datamake") -> GraphView:
    """The view of `steps` (the selection): states from the plan and the last outcomes, plus the timeline.

    `will_run` maps step index -> reason for the steps the plan would run; `last_outcomes` maps
    step index -> the outcome of its latest attempt; `attempts` are the last run's attempts.
    """
    attempts = list(attempts)
    tails = {a.step_index: read_tail(a.log_path, LOG_TAIL_BYTES, LOG_TAIL_LINES) for a in attempts}
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []
    for step in steps:
        state, reason = step_state(step, will_run, last_outcomes)
        sid = step_id(step)
        nodes[sid] = _step_node(step, state, reason, directory, tails.get(step.index, ""))
        for target in step.inputs:
            edges.append((_file_node(nodes, target.name, directory), sid))
        for tag in step.input_tags:
            edges.append((_tag_node(nodes, tag), sid))
        for target in step.outputs:
            edges.append((sid, _file_node(nodes, target.name, directory)))
        for tag in step.output_tags:
            edges.append((sid, _tag_node(nodes, tag)))
    return GraphView(title, tuple(nodes.values()), tuple(dict.fromkeys(edges)), _timeline(attempts, nodes))


def _step_node(step: Step, state: str, reason: str | None, directory: str, log_tail: str) -> Node:
    return Node(id=step_id(step), kind="step", label=step.label(), state=state, reason=reason,
                command=step.body, protocol=step.protocol, inputs=tuple(names(step, True, directory)),
                outputs=tuple(names(step, False, directory)),
                location=f"{relative_to(step.loc.path, directory or step.workdir)}:{step.loc.line}",
                log_tail=log_tail)


def _file_node(nodes: dict[str, Node], name: str, directory: str) -> str:
    nid = f"f:{name}"
    nodes.setdefault(nid, Node(id=nid, kind="file", label=relative_to(name, directory) if directory else name))
    return nid


def _tag_node(nodes: dict[str, Node], tag: str) -> str:
    nid = f"t:{tag}"
    nodes.setdefault(nid, Node(id=nid, kind="tag", label=f"%{tag}"))
    return nid


def _timeline(attempts: list[StepAttempt], nodes: Mapping[str, Node]) -> tuple[Bar, ...]:
    bars = []
    for a in attempts:
        node = nodes.get(f"s{a.step_index}")
        if node is not None and a.started:
            bars.append(Bar(node.id, node.label, a.started, max(a.finished or a.started, a.started), a.outcome))
    return tuple(sorted(bars, key=lambda b: (b.started, b.node)))


def layers(view: GraphView, steps_only: bool = False) -> dict[str, int]:
    """Longest-path layering (0 = sources) of every node, or of the steps alone (step -> file -> step)."""
    edges = step_edges(view) if steps_only else view.edges
    ids = [n.id for n in view.nodes if n.kind == "step" or not steps_only]
    succ: dict[str, list[str]] = {nid: [] for nid in ids}
    indegree = dict.fromkeys(ids, 0)
    for src, dst in edges:
        succ[src].append(dst)
        indegree[dst] += 1
    depth = dict.fromkeys(ids, 0)
    ready = [nid for nid in ids if indegree[nid] == 0]
    while ready:
        nid = ready.pop()
        for nxt in succ[nid]:
            depth[nxt] = max(depth[nxt], depth[nid] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return depth


def step_edges(view: GraphView) -> list[tuple[str, str]]:
    """Step -> step edges through the files and tags between them."""
    makers: dict[str, list[str]] = {}
    for src, dst in view.edges:
        if src.startswith("s"):
            makers.setdefault(dst, []).append(src)
    pairs = ((maker, dst) for src, dst in view.edges if not src.startswith("s") for maker in makers.get(src, ()))
    return list(dict.fromkeys(pairs))


def view_of_plan(plan: Sequence[tuple[Step, object]], state_dir: str, directory: str,
                 title: str = "datamake") -> GraphView:
    """The view of a preview plan [(step, reason)], with outcomes and the timeline from `state_dir`.

    A reason whose `dirty` is true means the step will run; its `label` is shown. The state
    directory is only read, never created.
    """
    steps = [step for step, _ in plan]
    will_run = {step.index: reason.label for step, reason in plan if reason.dirty}
    outcomes, attempts = read_history(steps, state_dir)
    return build_view(steps, will_run, outcomes, attempts, directory, title)


def read_history(steps: Sequence[Step], state_dir: str) -> tuple[dict[int, str], list[StepAttempt]]:
    """Last outcomes and last-run attempts for `steps`, matched by step key (indexes shift as files change)."""
    if not os.path.exists(os.path.join(state_dir, "state.db")):
        return {}, []
    index_of = {step_key(step): step.index for step in steps}
    store = StateStore.open_readonly(state_dir)  # a drawing never changes the state; the preview warned
    try:
        outcomes = {index_of[k]: v for k, v in store.last_outcomes().items() if k in index_of}
        attempts = [replace(a, step_index=index_of[a.key]) for a in store.last_run_attempts() if a.key in index_of]
    finally:
        store.close()
    return outcomes, attempts

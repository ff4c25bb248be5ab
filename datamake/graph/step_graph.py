"""Workflow -> step graph (plain adjacency lists); cycles and duplicate outputs, found on demand."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Iterable

from datamake.errors import WorkflowError
from datamake.model import Step, Workflow, relative_to


def tag_key(tag: str) -> str:
    """Tags compare without their `%` prefix, however the parser stored them."""
    return tag[1:] if tag.startswith("%") else tag


@dataclass
class StepGraph:
    """The dependency graph of a workflow: edge producer -> consumer, nodes are step indices.

    `pred[i]` and `succ[i]` list step i's producers and consumers (each once, in the order
    the edges were found). `producers` maps each output name (normalised) to the steps
    writing it, in file order; more than one entry is a duplicate output, reported only
    when a selection reaches it.
    """

    workflow: Workflow
    pred: list[list[int]]
    succ: list[list[int]]
    producers: dict[str, list[int]] = field(default_factory=dict)
    tag_producers: dict[str, list[int]] = field(default_factory=dict)

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Every edge (producer, consumer), by consumer then producer order."""
        return [(p, n) for n, preds in enumerate(self.pred) for p in preds]

    def step(self, index: int) -> Step:
        return self.workflow.steps[index]

    def ancestors(self, roots: Iterable[int]) -> set[int]:
        """The roots and every step they depend on, transitively."""
        return _reach(roots, self.pred)

    def descendants(self, roots: Iterable[int]) -> set[int]:
        """The roots and every step depending on them, transitively."""
        return _reach(roots, self.succ)

    def order(self, nodes: Iterable[int], rank: dict[int, int] | None = None) -> list[int]:
        """`nodes` in a topological order of the graph restricted to them, ties by `rank` then file order.

        Raises WorkflowError naming the cycle when the restricted graph has one.
        """
        if rank:
            return self._ranked_order(set(nodes), rank)
        chosen = set(nodes)
        self.check_duplicates(chosen)
        pred, succ = self.pred, self.succ
        if len(chosen) == len(pred):  # everything: every edge counts
            pending = {n: len(pred[n]) for n in chosen}
        else:
            pending = {n: sum(1 for p in pred[n] if p in chosen) for n in chosen}
        ready = [n for n, count in pending.items() if count == 0]
        heapq.heapify(ready)
        result: list[int] = []
        while ready:
            n = heapq.heappop(ready)
            result.append(n)
            for s in succ[n]:
                if s in chosen:
                    pending[s] -= 1
                    if pending[s] == 0:
                        heapq.heappush(ready, s)
        if len(result) < len(chosen):
            self._raise_cycle(chosen.difference(result))
        return result

    def _ranked_order(self, chosen: set[int], rank: dict[int, int]) -> list[int]:
        self.check_duplicates(chosen)
        pending = {n: sum(1 for p in self.pred[n] if p in chosen) for n in chosen}
        ready = [(rank[n], n) for n, count in pending.items() if count == 0]
        heapq.heapify(ready)
        result: list[int] = []
        while ready:
            _rank, n = heapq.heappop(ready)
            result.append(n)
            for s in self.succ[n]:
                if s in chosen:
                    pending[s] -= 1
                    if pending[s] == 0:
                        heapq.heappush(ready, (rank[s], s))
        if len(result) < len(chosen):
            self._raise_cycle(chosen.difference(result))
        return result

    def check_duplicates(self, chosen: set[int]) -> None:
        """Two steps writing one output is an error once either of them is selected."""
        if len(self.producers) == sum(len(s.outputs) for s in self.workflow.steps):
            return  # every output has one writer
        for n in sorted(chosen):
            for target in self.step(n).outputs:
                writers = self.producers[target.name]
                if len(writers) > 1:
                    second = self.step(writers[1])
                    name = relative_to(target.name, self.workflow.directory)
                    raise WorkflowError(f"duplicated outputs: {name}", loc=second.loc,
                                        hint=f"step at {self.step(writers[0]).loc} writes it too")

    def _raise_cycle(self, stuck: set[int]) -> None:
        cycle = find_cycle(stuck, self.succ)
        names = [self.step(n).label() for n in cycle] + [self.step(cycle[0]).label()]
        raise WorkflowError("cycle dependency detected: " + " -> ".join(names), loc=self.step(cycle[0]).loc)


def find_cycle(stuck: set[int], succ: list[list[int]]) -> list[int]:
    """One cycle among `stuck` (the steps a topological sort could not place), from its first step.

    `stuck` also holds steps that merely depend on a cycle; those are peeled off first (a step
    with no successor left in the set lies on no cycle), so the walk that follows cannot leave it.
    """
    remaining = set(stuck)
    out = {n: sum(1 for s in succ[n] if s in remaining) for n in remaining}
    pred: dict[int, list[int]] = {n: [] for n in remaining}
    for n in remaining:
        for s in succ[n]:
            if s in remaining:
                pred[s].append(n)
    sinks = [n for n, count in out.items() if count == 0]
    while sinks:
        n = sinks.pop()
        remaining.discard(n)
        for p in pred[n]:
            out[p] -= 1
            if out[p] == 0:
                sinks.append(p)
    node, seen = min(remaining), {}
    while node not in seen:
        seen[node] = len(seen)
        node = next(s for s in succ[node] if s in remaining)
    cycle = list(seen)[seen[node]:]
    start = cycle.index(min(cycle))  # name it from its first step in the file
    return cycle[start:] + cycle[:start]


def build_graph(workflow: Workflow) -> StepGraph:
    """Index outputs and tags, then link each producer to each consumer (once per pair)."""
    count = len(workflow.steps)
    sg = StepGraph(workflow, [[] for _ in range(count)], [[] for _ in range(count)])
    producers, tag_producers = sg.producers, sg.tag_producers
    for step in workflow.steps:
        for target in step.outputs:
            producers.setdefault(target.name, []).append(step.index)
        for tag in step.output_tags:
            tag_producers.setdefault(tag_key(tag), []).append(step.index)
    no_producer: list[int] = []
    for step in workflow.steps:
        found: list[int] = []
        for target in step.inputs:
            found += producers.get(target.name, no_producer)
        for tag in step.input_tags:
            found += tag_producers.get(tag_key(tag), no_producer)
        if found:
            preds = sg.pred[step.index] = list(dict.fromkeys(found))
            for p in preds:
                sg.succ[p].append(step.index)
    return sg


def _reach(roots: Iterable[int], adjacency) -> set[int]:
    seen = set(roots)
    stack = list(seen)
    while stack:
        for nxt in adjacency[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen

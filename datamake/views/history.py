"""What happened to one workflow, read from its state directory: the data every report view draws.

Read only: the schedule tables through a read-only connection, the step attempts through an
in-memory copy of the database. Nothing here creates, changes or sets aside the state.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime

from datamake.build.attempt_logs import read_tail
from datamake.model import Step, Workflow, relative_to
from datamake.schedule import dated
from datamake.schedule.intervals import Interval, Schedule
from datamake.store.intervals import ScheduleState
from datamake.store.statedb import StateStore
from datamake.views import graph_view
from datamake.views.graph_layout import positions
from datamake.views.landed import gone_by_start
from datamake.views.status import Row, collect

# One letter per cell state: 160 steps x 365 intervals stay a few tens of kilobytes.
CELL_CODES = {"success": "s", "failed": "f", "running": "r", "up for retry": "u", "interrupted": "i",
              "waiting": "w", "adopted": "a", "missing": "m", "skipped": "k", "sla missed": "l", "": "-"}
RUNS_SHOWN = 60  # a workflow without a schedule shows its last runs as the grid's columns
TAIL_LINES = 12
TAIL_BYTES = 2048
ALL_TAILS_UP_TO = 400  # more attempts than that: the page carries the tails of the ones that did not succeed


@dataclass(frozen=True)
class Source:
    """One workflow to report on, as the command line found it."""

    path: str
    state_dir: str
    workflow: Workflow | None  # evaluated with stand-in interval values when dated; None if it failed to load
    schedule: Schedule | None = None
    start: datetime | None = None
    error: str | None = None


def read(source: Source, now: datetime, all_tails: bool | None = None) -> dict:
    """Everything the report draws for one workflow, as JSON-ready data."""
    steps = list(source.workflow.steps) if source.workflow else []
    names = [stable_name(s) for s in steps]
    store = _store(source.state_dir)
    try:
        attempts = _attempts(store, source.path)
        runs = _runs(store)
    finally:
        if store is not None:
            store.close()
    if source.schedule is not None:
        columns, cells, extra = _by_interval(source, now, names)
    else:
        columns, cells, extra = _by_run(attempts, runs, names)
    order = {name: i for i, name in enumerate(extra)}
    all_tails = len(attempts) <= ALL_TAILS_UP_TO if all_tails is None else all_tails
    return {
        "name": _display_name(source.path),
        "path": source.path,
        "stateDir": source.state_dir,
        "error": source.error,
        "schedule": _schedule_text(source),
        "kind": "intervals" if source.schedule is not None else "runs",
        "steps": extra,
        "stepInfo": [_step_info(s, source.workflow) for s in steps],
        "graph": _graph(source.workflow, steps, names) if steps else {"nodes": [], "edges": []},
        "columns": columns,
        "cells": ["".join(CELL_CODES.get(cells[c].get(name, ""), "-") for c in range(len(columns)))
                  for name in extra],
        "attempts": [_attempt_row(a, order, all_tails) for a in attempts if a.step in order or a.label in order],
        "runs": [[r[0], r[1], r[2], r[3]] for r in runs],
        "nextDue": _next_due(source, now),
    }


def stable_name(step: Step) -> str:
    """The step's name that is the same in every interval: `report/$[DATE].csv`."""
    return dated.step_name(step, dict(dated.SENTINELS))


def unsentinel(text: str) -> str:
    """A name from the stand-in evaluation with `$[DATE]` & co where the stand-ins were."""
    for name, stand_in in dated.SENTINELS.items():
        text = text.replace(stand_in, f"$[{name}]")
    return text


def _display_name(path: str) -> str:
    base = os.path.basename(path)
    return os.path.basename(os.path.dirname(path)) if base == "Drakefile" else base


def _schedule_text(source: Source) -> str:
    if source.schedule is None:
        return ""
    return source.schedule.spec + (f" ({source.schedule.tz.key})" if str(source.schedule.tz) != "UTC" else "")


def _store(state_dir: str) -> StateStore | None:
    if not os.path.exists(os.path.join(state_dir, "state.db")):
        return None
    return StateStore.open_readonly(state_dir)


def _attempts(store: StateStore | None, workflow_path: str) -> list:
    if store is None:
        return []
    return [a for a in store.step_attempts() if a.workflow in (None, workflow_path)]


def _runs(store: StateStore | None) -> list[tuple]:
    if store is None:
        return []
    return store.runs()


def _schedule_state(source: Source):
    if not os.path.exists(os.path.join(source.state_dir, "state.db")):
        return None
    try:
        return ScheduleState(source.state_dir, source.path, readonly=True)
    except sqlite3.DatabaseError:
        return None


def _by_interval(source: Source, now: datetime, names: list[str]) -> tuple[list[dict], list[dict], list[str]]:
    state = _schedule_state(source)
    try:
        expected = _expected(source, now, state)
        gone = _gone(source, state)
        columns, rows = collect(state or _Empty(), expected, names, gone.get)
        records = state.attempts() if state else []
    finally:
        if state is not None:
            state.close()
    landed: dict[str, str] = {}
    for attempt in records:
        if attempt.state == "success" and attempt.ended_at:
            landed[attempt.key] = attempt.ended_at
    done = ("success", "adopted")  # a waiting interval may have built part of its steps: not landed
    return ([_column(r, landed.get(r.key) if r.state in done else None) for r in rows], [r.steps for r in rows],
            columns)


def _gone(source: Source, state) -> dict[str, set[str]]:
    """The dated steps whose outputs are gone, by start of each interval recorded done."""
    done = [r.start for r in (state.intervals() if state else {}).values() if r.state in ("success", "adopted")]
    return gone_by_start(source.workflow, source.schedule, done) if done and source.workflow else {}


def _expected(source: Source, now: datetime, state) -> list[Interval]:
    """Due intervals from the schedule's start, else from the first record, else the latest due."""
    sched = source.schedule
    first = state.intervals() if state else {}
    since = source.start or (datetime.fromisoformat(min(r.start for r in first.values())) if first
                             else sched.latest_due(now).start)
    return sched.due(now, since)


def _column(row: Row, landed: str | None) -> dict:
    return {"key": row.key, "start": row.start, "end": row.end, "state": row.state, "tries": row.attempts,
            "error": row.error, "landed": landed, "sla": row.sla_missed}


def _by_run(attempts: list, runs: list[tuple], names: list[str]) -> tuple[list[dict], list[dict], list[str]]:
    """A plain workflow's grid: its last runs that attempted something, each step's last outcome in each."""
    attempted = sorted({a.run_id for a in attempts})[-RUNS_SHOWN:]
    status = {r[0]: r for r in runs}
    cells: dict[int, dict[str, str]] = {run: {} for run in attempted}
    for a in attempts:
        if a.run_id in cells:
            cells[a.run_id][a.step or a.label] = _cell_state(a.outcome)
    columns = [{"key": f"run {run}", "run": run, "start": _iso(status.get(run, (0, None))[1]),
                "end": _iso(status.get(run, (0, None, None))[2]), "state": status.get(run, (0, 0, 0, ""))[3],
                "tries": sum(1 for a in attempts if a.run_id == run), "error": None, "landed": None}
               for run in attempted]
    return columns, [cells[run] for run in attempted], names


def _cell_state(outcome: str) -> str:
    return {"retry": "up for retry", "timeout": "failed"}.get(outcome, outcome)


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds") if epoch else None


def _attempt_row(a, order: dict[str, int], with_tail: bool) -> list:
    """[interval, step index, number, outcome, started, finished, exit, run, reason, error, log, tail]."""
    wanted = a.log_path and (with_tail or a.outcome != "success")
    tail = read_tail(a.log_path, TAIL_BYTES, TAIL_LINES) if wanted else None
    return [a.interval, order.get(a.step or a.label, -1), a.attempt, a.outcome, a.started, a.finished,
            a.exit_code, a.run_id, a.reason, a.error, a.log_path, tail]


def _step_info(step: Step, workflow: Workflow) -> dict:
    def names(targets, tags) -> list[str]:
        return [unsentinel(relative_to(t.name, workflow.directory)) for t in targets] + [f"%{t}" for t in tags]

    return {"command": unsentinel(step.body), "protocol": step.protocol,
            "options": {k: unsentinel(str(v)) for k, v in step.options.given.items()},
            "inputs": names(step.inputs, step.input_tags), "outputs": names(step.outputs, step.output_tags),
            "location": f"{relative_to(step.loc.path, workflow.directory)}:{step.loc.line}",
            "dated": dated.is_dated(step)}


def _graph(workflow: Workflow, steps: list[Step], names: list[str]) -> dict:
    """The workflow's nodes laid out (Graphviz for large graphs when installed), named without stand-ins."""
    view = graph_view.build_view(steps, {}, {}, (), workflow.directory, "")
    nodes = tuple(replace(n, label=names[int(n.id[1:])] if n.kind == "step" else unsentinel(n.label))
                  for n in view.nodes)
    view = replace(view, nodes=nodes)
    boxes = positions(view)
    out = []
    for n in view.nodes:
        x, y, w, h = boxes[n.id]
        out.append({"id": n.id, "kind": n.kind, "label": n.label, "step": int(n.id[1:]) if n.kind == "step" else -1,
                    "x": x, "y": y, "w": w, "h": h})
    return {"nodes": out, "edges": [list(e) for e in view.edges]}


def _next_due(source: Source, now: datetime) -> str | None:
    if source.schedule is None:
        return None
    upcoming = source.schedule.containing(now)  # the open interval: due when it ends
    return upcoming.key


class _Empty:
    """No schedule records yet."""

    def intervals(self) -> dict:
        return {}

    def steps(self) -> dict:
        return {}

    def sla_missed(self) -> set:
        return set()

"""`datamake --status`: intervals by step from the state database, as a rich table or JSON."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, TextIO

from datamake.schedule.intervals import Interval
from datamake.store.intervals import ScheduleState

# How each cell state is drawn, like Airflow's grid colours.
STYLES = {"success": "green", "failed": "red", "running": "cyan", "up for retry": "yellow",
          "interrupted": "magenta", "missing": "dim"}
INTERVAL_WORDS = {"retry": "up for retry"}


@dataclass
class Row:
    """One interval: its overall state and each step's."""

    key: str
    start: str
    end: str
    state: str
    attempts: int = 0
    error: str | None = None
    steps: dict[str, str] = field(default_factory=dict)


def collect(state: ScheduleState, expected: Iterable[Interval], step_names: Iterable[str],
            missing: Callable[[str], set[str] | None] | None = None) -> tuple[list[str], list[Row]]:
    """Rows for every recorded interval plus the `expected` (due) ones, oldest first; and the step columns.

    `missing(start)` names the steps whose outputs are gone for the interval starting then: a
    recorded success is not done without its targets, so it shows as missing.
    """
    records = state.intervals()
    outcomes = state.steps()
    columns = list(dict.fromkeys([*step_names, *(n for steps in outcomes.values() for n in steps)]))
    rows: dict[str, Row] = {}
    for key, rec in records.items():
        rows[key] = Row(key, rec.start, rec.end, INTERVAL_WORDS.get(rec.state, rec.state), rec.attempts, rec.error)
    for interval in expected:
        if interval.key not in rows:
            rows[interval.key] = Row(interval.key, interval.start.isoformat(), interval.end.isoformat(), "missing")
    for row in rows.values():
        row.steps = {name: _cell(row, outcomes.get(row.key, {}).get(name)) for name in columns}
        gone = missing(row.start) if missing and row.state == "success" else None
        if gone:
            row.state = "missing"
            row.steps.update({name: "missing" for name in gone})
    return columns, sorted(rows.values(), key=lambda r: r.start)


def _cell(row: Row, recorded: str | None) -> str:
    if row.state in ("running", "interrupted"):
        return row.state if recorded != "success" else "success"
    if recorded == "failed" and row.state == "up for retry":
        return "up for retry"
    return recorded or "missing"


def render_json(columns: list[str], rows: list[Row], out: TextIO) -> None:
    """One JSON object: {"steps": [...], "intervals": [{key, start, end, state, attempts, error, steps}]}."""
    data = {"steps": columns, "intervals": [row.__dict__ for row in rows]}
    out.write(json.dumps(data, indent=None) + "\n")


def render_table(columns: list[str], rows: list[Row], out: TextIO) -> None:
    """A rich table: one line per interval, one column per step, coloured by state."""
    from rich.console import Console
    from rich.table import Table

    # Wide enough that no step name or state is cut: the table is read, not fitted to a window.
    width = 40 + sum(max(len(c), len("up for retry")) + 3 for c in columns)
    console = Console(file=out, width=max(80, width), highlight=False)
    if not rows:
        console.print("no intervals recorded or due")
        return
    table = Table(title="intervals by step")
    for name in ("interval", "state", "tries", *columns):
        table.add_column(name, no_wrap=True)
    for row in rows:
        cells = [row.key, _styled(row.state), str(row.attempts)] + [_styled(row.steps[c]) for c in columns]
        table.add_row(*cells)
    console.print(table)
    for row in rows:
        if row.error and row.state in ("failed", "up for retry"):
            console.print(f"{row.key}: {row.error}")


def _styled(state: str) -> str:
    return f"[{STYLES.get(state, 'white')}]{state}[/]"

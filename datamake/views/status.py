"""`datamake --status`: intervals by step from the state database, as a table that fits the terminal, or JSON."""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from datamake.build.records import stamped
from datamake.schedule.intervals import Interval
from datamake.store.intervals import ScheduleState

# How each cell state is drawn, like Airflow's grid colours.
STYLES = {"success": "green", "failed": "red", "running": "cyan", "up for retry": "yellow",
          "interrupted": "magenta", "waiting": "blue", "adopted": "green", "missing": "dim"}
SYMBOLS = {"success": "✓", "failed": "✗", "running": "▶", "up for retry": "↻", "interrupted": "!",
           "waiting": "…", "adopted": "◆", "missing": "·"}
INTERVAL_WORDS = {"retry": "up for retry"}
# Intervals a reader must see first: they need attention or are in flight.
ATTENTION = ("failed", "up for retry", "interrupted", "waiting", "running")
FOLD_AT = 4  # this many consecutive quiet intervals with the same state collapse into one line


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
    waiting_for: list[str] = field(default_factory=list)  # inputs it waits for (or waited for in vain)
    wait_until: str | None = None
    sla_missed: bool = False  # not done its SLA after its end (reported once)


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
        rows[key] = Row(key, rec.start, rec.end, INTERVAL_WORDS.get(rec.state, rec.state), rec.attempts, rec.error,
                        waiting_for=list(rec.waiting_for), wait_until=rec.wait_until)
    for interval in expected:
        if interval.key not in rows:
            rows[interval.key] = Row(interval.key, interval.start.isoformat(), interval.end.isoformat(), "missing")
    late = state.sla_missed()
    for row in rows.values():
        row.sla_missed = row.key in late
        row.steps = {name: _cell(row, outcomes.get(row.key, {}).get(name)) for name in columns}
        gone = missing(row.start) if missing and row.state in ("success", "adopted") else None
        if gone:
            row.state = "missing"
            row.steps.update({name: "missing" for name in gone})
    return columns, sorted(rows.values(), key=lambda r: r.start)


def _cell(row: Row, recorded: str | None) -> str:
    if row.state in ("running", "interrupted", "waiting", "adopted"):
        return row.state if recorded != "success" else "success"
    if recorded == "failed" and row.state == "up for retry":
        return "up for retry"
    return recorded or "missing"


def matching_steps(columns: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The step names a pattern names: as a substring (`report`), else as a glob (`raw/*`)."""
    if not patterns:
        return list(columns)
    return [c for c in columns if any(p in c or fnmatch.fnmatchcase(c, p) for p in patterns)]


def only(columns: list[str], rows: list[Row], steps: Sequence[str]) -> tuple[list[str], list[Row]]:
    """The same rows with only these step columns."""
    keep = [c for c in columns if c in set(steps)]
    return keep, [Row(r.key, r.start, r.end, r.state, r.attempts, r.error, {c: r.steps[c] for c in keep})
                  for r in rows]


def render_json(columns: list[str], rows: list[Row], out: TextIO, paused: str | None = None) -> None:
    """One JSON object: {"steps": [...], "intervals": [{key, start, end, state, attempts, error, steps, ...}],
    "paused_since": UTC ISO or null}."""
    data = stamped({"steps": columns, "intervals": [row.__dict__ for row in rows], "paused_since": paused})
    out.write(json.dumps(data, indent=None) + "\n")


# ---------------------------------------------------------------- the terminal table

def render_table(columns: list[str], rows: list[Row], out: TextIO, width: int | None = None) -> None:
    """A table that fits the terminal: intervals needing attention first, then the others oldest
    first with long runs of one state folded; one column per step when they fit, else one
    column naming the steps that did not succeed. Names are printed literally (no rich markup)."""
    console = Console(file=out, width=width, highlight=False, markup=False)
    if not rows:
        console.print("no intervals recorded or due")
        return
    console.print(Text(_summary(columns, rows), style="bold"))
    groups = _runs(rows)
    wide = _fits(columns, max(len(_folded_key(g)) for g in groups) if groups else 10, console.width)
    table = Table(expand=False)
    table.add_column("interval", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("tries", justify="right", no_wrap=True)
    for name in columns if wide else ["steps"]:
        table.add_column(Text(name), no_wrap=True, overflow="ellipsis")
    attention = [r for r in rows if r.state in ATTENTION]
    for row in attention:
        table.add_row(*_cells(row, columns, wide))
    if attention and len(attention) < len(rows):
        table.add_section()
    for group in groups:
        table.add_row(*(_cells(group[0], columns, wide) if len(group) < FOLD_AT else _folded(group, columns, wide)))
    console.print(table)
    for row in attention:
        if row.error:
            until = f" until {row.wait_until}" if row.state == "waiting" and row.wait_until else ""
            console.print(Text(f"{row.key}: {row.error}{until}"), overflow="ellipsis", no_wrap=True)
    for row in rows:
        if row.sla_missed and row.state not in ("success", "adopted"):
            console.print(Text(f"{row.key}: SLA missed"), no_wrap=True)


def _summary(columns: list[str], rows: list[Row]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{_count(len(rows), 'interval')} ({states}), {_count(len(columns), 'step')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fits(columns: list[str], key_width: int, width: int) -> bool:
    needed = key_width + 4 + 14 + 7 + sum(max(len(c), len("up for retry")) + 3 for c in columns)
    return needed <= width


def _runs(rows: list[Row]) -> list[list[Row]]:
    """Consecutive rows with the same interval state and the same step states, kept together."""
    groups: list[list[Row]] = []
    for row in rows:
        if groups and groups[-1][0].state == row.state and groups[-1][0].steps == row.steps:
            groups[-1].append(row)
        else:
            groups.append([row])
    groups = [g for g in groups if g[0].state not in ATTENTION]  # shown above, and they break a run
    return [g for group in groups for g in ([group] if len(group) >= FOLD_AT else [[r] for r in group])]


def _cells(row: Row, columns: list[str], wide: bool) -> list:
    steps = [_state(row.steps[c]) for c in columns] if wide else [_folded_steps(row, columns)]
    return [_plain(row.key), _state(row.state), _plain(str(row.attempts)), *steps]


def _folded(group: list[Row], columns: list[str], wide: bool) -> list:
    first = group[0]
    cells = _cells(first, columns, wide)
    cells[0] = _plain(_folded_key(group))
    cells[2] = _plain(str(sum(r.attempts for r in group)))
    return cells


def _folded_key(group: list[Row]) -> str:
    return group[0].key if len(group) == 1 else f"{group[0].key} … {group[-1].key} ({len(group)})"


def _folded_steps(row: Row, columns: list[str]) -> Text:
    """`✗ report/$[DATE].csv  ✓ 3`: the steps that did not succeed by name, the others counted."""
    text = Text()
    by_state: dict[str, list[str]] = {}
    for name in columns:
        by_state.setdefault(row.steps[name], []).append(name)
    for state in sorted(by_state, key=lambda s: (s == "success", s == "missing", s)):
        names = by_state[state]
        shown = f"{len(names)}" if state in ("success", "missing") or len(names) > 3 else ", ".join(names)
        if text:
            text.append("  ")
        text.append(f"{SYMBOLS.get(state, '?')} {shown}", style=STYLES.get(state, "white"))
    return text


def _state(state: str) -> Text:
    return Text(state, style=STYLES.get(state, "white"))


def _plain(text: str) -> Text:
    return Text(text)

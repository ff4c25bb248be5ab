"""Which recorded intervals lost their outputs since: for the report's grid, at one listing per folder or prefix.

A recorded success is not done once its outputs are gone, so the grid shows such cells as
missing. A year of daily intervals of 160 steps names 58,400 outputs: their names are filled in
from the stand-in evaluation (no step name is recomputed per interval), and their presence comes
from one listing of each folder (local) or prefix (remote), never a check per output.
"""
from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime
from typing import Iterable

from datamake.model import Workflow, is_url
from datamake.schedule import dated
from datamake.schedule.intervals import Schedule
from datamake.store.stamps import Stamp, local_stat
from datamake.store.storage import Storage, storage_of


def gone_by_start(shape: Workflow, schedule: Schedule, starts: Iterable[str]) -> dict[str, set[str]]:
    """For each interval start (ISO), the dated steps (by stable name) with an output gone.

    Empty when some dated output's name does not carry a stand-in verbatim (e.g. made by
    `$(cmd $[DATE])`): only evaluating the workflow for each interval would tell its names.
    """
    templates = _templates(shape)
    if templates is None:
        return {}
    wanted: dict[str, dict[str, list[str]]] = {}
    for start in starts:
        values = schedule.containing(datetime.fromisoformat(start)).variables()
        wanted[start] = {name: [_fill(parts, values) for parts in outputs] for name, outputs in templates.items()}
    named = (p for by_step in wanted.values() for paths in by_step.values() for p in paths)
    present = _present(storage_of(shape), named)
    return {start: {name for name, paths in by_step.items() if not all(p in present for p in paths)}
            for start, by_step in wanted.items()}


def _templates(shape: Workflow) -> dict[str, list[tuple[str, list[tuple[str, str]]]]] | None:
    """Each dated step's stable name -> its outputs as (name with stand-ins, [(stand-in, variable)])."""
    out = {}
    for step in dated.dated_steps(shape):
        outputs = []
        for target in step.outputs:
            found = [(stand_in, var) for var, stand_in in dated.SENTINELS.items() if stand_in in target.name]
            if not found:
                return None
            outputs.append((target.name, found))
        out[dated.step_name(step, dated.SENTINELS)] = outputs
    return out


def _fill(parts: tuple[str, list[tuple[str, str]]], values: dict[str, str]) -> str:
    name, found = parts
    for stand_in, var in found:
        name = name.replace(stand_in, values[var])
    return name


def _present(storage: Storage, paths: Iterable[str]) -> set[str]:
    """The paths that exist (an empty folder does not count): one listing per parent folder or prefix."""
    local: dict[str, dict[str, str]] = defaultdict(dict)  # folder -> entry name -> the path as named
    remote: list[str] = []
    for path in set(paths):
        if is_url(path):
            remote.append(path)
        else:
            folder, base = os.path.split(os.path.normpath(path))
            local[folder][base] = path
    found = {url for url, stamp in storage.stat_many(remote).items() if _stamped(stamp)}
    for folder, members in local.items():
        found.update(_listed(folder, members))
    return found


def _listed(folder: str, members: dict[str, str]) -> set[str]:
    try:
        entries = {e.name: e for e in os.scandir(folder or ".")}
    except (FileNotFoundError, NotADirectoryError):
        return set()
    except OSError:  # e.g. a folder that may be passed through but not listed
        return {path for path in members.values() if _stamped(local_stat(path))}
    found = set()
    for base in members.keys() & entries.keys():
        entry, path = entries[base], members[base]
        if entry.is_file():
            found.add(path)
        elif entry.is_dir():  # a folder output: present when it holds a file
            if _stamped(local_stat(path)):
                found.add(path)
    return found


def _stamped(stamp: Stamp | None) -> bool:
    return stamp is not None and not stamp.empty

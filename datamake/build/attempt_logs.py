"""One log file per step attempt: `logs/[INTERVAL/]STEP.N.log`, reserved so that none is ever overwritten."""
from __future__ import annotations

import os
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, limit: int = 80) -> str:
    """`text` as one file-name component: runs of other characters become `_`."""
    return _UNSAFE.sub("_", text)[:limit].strip("_") or "step"


def log_dir(state_dir: str, interval: str = "") -> str:
    """The folder of a build's logs: `logs/` for a plain build, `logs/<interval key>/` in a schedule."""
    logs = os.path.join(state_dir, "logs")
    return os.path.join(logs, safe_name(interval, 64)) if interval else logs


def reserve_log(state_dir: str, interval: str, step: str, number: int, taken: set[str]) -> tuple[int, str]:
    """The log path of attempt `number` (or the next free number) of `step`; return both. No file is made.

    The file is made when the attempt first prints (`open_log`): a step that prints nothing leaves
    none, and creating thousands of empty files was the largest cost of a build of small steps. A
    number is free when no file has it (a log kept after its record was pruned, or one of another
    step with the same safe name) and no attempt of this run took it (`taken`, kept by the caller:
    its file may not exist yet). The state directory's lock keeps other processes out meanwhile.
    """
    folder = log_dir(state_dir, interval)
    stem = safe_name(step)
    while True:
        path = os.path.join(folder, f"{stem}.{number}.log")
        if path not in taken and not os.path.lexists(path):
            taken.add(path)
            return number, path
        number += 1


def open_log(path: str):
    """The attempt's log, made (with its folder) on first use and appended to; unbuffered, so a killed
    run keeps every line."""
    try:
        return open(path, "ab", buffering=0)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return open(path, "ab", buffering=0)


def existing_log(path: str) -> str | None:
    """`path` when the attempt wrote its log, None when it printed nothing (and so has no file)."""
    return path if path and os.path.exists(path) else None


def read_tail(path: str | None, max_bytes: int, lines: int | None = None) -> str:
    """The end of a log: its last `max_bytes`, read from the end so a huge log costs nothing, and of
    those the last `lines` lines when given; "" when there is no such file."""
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - max_bytes, 0))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text if lines is None else "\n".join(text.splitlines()[-lines:])

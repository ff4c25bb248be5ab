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


def reserve_log(state_dir: str, interval: str, step: str, number: int) -> tuple[int, str]:
    """Create the empty log of attempt `number` (or the next free number) of `step`; return both.

    The file is created exclusively, so two attempts never share one: a number whose file is
    left from a pruned history, or taken by another step with the same safe name, is skipped.
    """
    folder = log_dir(state_dir, interval)
    stem = safe_name(step)
    while True:
        path = os.path.join(folder, f"{stem}.{number}.log")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            return number, path
        except FileExistsError:
            number += 1
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)


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

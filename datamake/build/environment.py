"""A step's environment within the kernel's limits: lists too long for one variable go to a file.

Linux refuses to start a process when one environment string exceeds 128 KiB (MAX_ARG_STRLEN),
whatever the program: a merge over 10,000 files cannot get `$INPUTS` that way. Such a list is
written beside the step's log, one name per line, and `$INPUTS_FILE` names it instead.
"""
from __future__ import annotations

import os
import re

VARIABLE_LIMIT = 128 * 1024 - 1  # bytes of "NAME=value" the kernel passes in one string
_LISTS = ("INPUTS", "OUTPUTS")


def fit_lists(env: dict[str, str], names: dict[str, tuple[str, ...]], log_path: str) -> dict[str, str]:
    """`env` with any over-long INPUTS/OUTPUTS replaced by INPUTS_FILE/OUTPUTS_FILE (files beside the log)."""
    for key in _LISTS:
        value = env.get(key, "")
        if len(key) + 1 + len(value.encode()) <= VARIABLE_LIMIT:
            continue
        listing = f"{log_path}.{key.lower()}"
        os.makedirs(os.path.dirname(listing) or ".", exist_ok=True)  # the log itself may not exist yet
        with open(listing, "w", encoding="utf-8") as handle:
            handle.write("".join(name + "\n" for name in names[key]))
        del env[key]
        env[f"{key}_FILE"] = listing
    return env


def too_long(env: dict[str, str], script: str) -> str | None:
    """Why this environment cannot start a process, in words a user can act on; None when it can."""
    for key in _LISTS:
        if f"{key}_FILE" in env and re.search(rf"\b{key}\b(?!_FILE)", script):
            return (f"${key} lists more names than one environment variable may hold (the kernel's 128 KiB): "
                    f"read them from ${key}_FILE instead, e.g. xargs cat < ${key}_FILE")
    for key, value in env.items():
        # Encoding only values that might be too long (a character is at most 4 bytes): this runs per step.
        if len(key) + 1 + 4 * len(value) > VARIABLE_LIMIT and len(key) + 1 + len(value.encode()) > VARIABLE_LIMIT:
            return f"variable {key} is over the kernel's 128 KiB for one environment variable"
    return None

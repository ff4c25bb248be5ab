"""`-v "A=1,B=2"` and `--var A=1`: the command line's starting variables."""
from __future__ import annotations

import re

from datamake.errors import UsageError

_VAR_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")


def parse_var_args(vars_args: list[str], var_args: list[str]) -> dict[str, str]:
    """Drake's `-v "A=1,B=2"` (commas outside double quotes split) then each `--var A=1`."""
    result: dict[str, str] = {}
    for arg in vars_args:
        for item in _split_outside_quotes(arg, ","):
            if item.strip():
                _add_var(result, item.strip(), "-v")
    for item in var_args:
        _add_var(result, item, "--var")
    return result


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _add_var(result: dict[str, str], item: str, flag: str) -> None:
    pieces = _split_outside_quotes(item, "=")
    if len(pieces) != 2 or not _VAR_NAME.match(pieces[0]):
        raise UsageError(f"bad {flag} variable {item!r}: expected NAME=VALUE")
    value = pieces[1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    result[pieces[0]] = value

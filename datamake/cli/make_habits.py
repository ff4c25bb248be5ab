"""make's flags typed out of habit: a target or option that looks like one gets a hint naming datamake's way."""
from __future__ import annotations

import re

from datamake.errors import UsageError

# make's short flag (read by datamake as the target `-X`, "remove X") -> what datamake does instead.
_SHORT = {
    "n": "make's -n (dry run) is -P (--preview) here; add --why to see each decision",
    "k": "make's -k is the default here: after a failure, steps that do not depend on it still run "
         "(--fail-fast stops launching new ones)",
    "B": "make's -B (rebuild everything) is +... here; +TARGET forces a target and its dependencies",
    "C": "make's -C DIR is -w DIR here (a directory holding a Drakefile)",
    "f": "make's -f FILE is -w FILE here",
    "s": "make's -s (silent) is -q (--quiet) here",
    "i": "make's -i (ignore errors) has no equivalent: a failed step's dependants are skipped, "
         "others run; use [+drake] or `|| true` for a command whose failure does not matter",
    "t": "make's -t (touch) has no equivalent: a step whose outputs exist and are newer than its "
         "inputs is already up to date",
}
_LONG = {
    "--dry-run": "n", "--just-print": "n", "--recon": "n", "--keep-going": "k", "--always-make": "B",
    "--directory": "C", "--file": "f", "--makefile": "f", "--silent": "s", "--ignore-errors": "i",
    "--touch": "t",
}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*=")


def hint_for(arg: str) -> str | None:
    """A hint when `arg` looks like a make flag or a make variable assignment, else None."""
    if _ASSIGNMENT.match(arg):
        return f"make's VAR=value is --var {arg} here (or -v \"A=1,B=2\")"
    if re.fullmatch(r"-j\d*", arg) or re.fullmatch(r"--jobs(=\d*)?", arg):
        return "give -j a number: -j 8 or -j8"
    letters = arg[1:] if re.fullmatch(r"-[A-Za-z]+", arg) else ""
    if letters and all(letter in _SHORT for letter in letters):
        return "; ".join(_SHORT[letter] for letter in dict.fromkeys(letters))
    long = arg.split("=", 1)[0]
    return _SHORT[_LONG[long]] if long in _LONG else None


def with_hint(err: UsageError, argv: list[str]) -> UsageError:
    """`err` with a make hint added when what it complains about came from a make habit in `argv`."""
    if err.hint:
        return err
    for arg in argv:
        hint = hint_for(arg)
        if hint and _blames(err.message, arg):
            return UsageError(err.message, err.loc, hint)
    return err


def _blames(message: str, arg: str) -> bool:
    """Whether the error is about `arg`: a target not found (`-n` is read as "remove n"), or an unknown flag."""
    name = arg.lstrip("+-^=") if not _ASSIGNMENT.match(arg) else arg
    if message == f"target not found: {name}" or message == f"target not found: {arg}":
        return True
    return message.startswith("unrecognized arguments:") and arg.split("=", 1)[0] in message.split()

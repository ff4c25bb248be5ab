"""Shell completion (bash, zsh, fish) through argcomplete: flags, and target names from a parse-only load.

argcomplete, not shtab: shtab writes static scripts (no fish), while target names must come from
the workflow at the moment TAB is pressed. Each TAB runs datamake with `_ARGCOMPLETE` set; the
workflow is then evaluated without running any `$(command)` (as --lint does), so completing never
runs anything, and argcomplete is imported only then.
"""
from __future__ import annotations

import argparse
import os
import sys

from datamake.cli.variables import parse_var_args
from datamake.errors import DatamakeError
from datamake.language.expand import NOT_RUN_PREFIX
from datamake.language.load import load_workflow, workflow_path
from datamake.model import relative_to
from datamake.schedule import dated

SHELLS = ("bash", "zsh", "fish")
_SELECTORS = "+-=^"


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """When the shell asks for completions, answer and exit; otherwise return at once."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    for action in parser._actions:  # argparse keeps its option table here
        if action.dest == "targets":
            action.completer = complete_target  # type: ignore[attr-defined]
    argcomplete.autocomplete(parser, always_complete_options="long")


def script(shell: str) -> str:
    """The line(s) to put in a shell's start-up file: `eval "$(datamake --completion bash)"`."""
    import argcomplete

    return argcomplete.shellcode(["datamake"], shell=shell)


def complete_target(prefix: str, parsed_args: argparse.Namespace, **_kwargs) -> list[str]:
    """Output names, %tags and method() names of the workflow, after any + - = ^ the user typed."""
    selectors = prefix[:len(prefix) - len(prefix.lstrip(_SELECTORS))]
    try:
        names = target_names(getattr(parsed_args, "workflow", None), getattr(parsed_args, "vars", None) or [],
                             getattr(parsed_args, "var", None) or [])
    except (DatamakeError, OSError):
        return []  # a broken workflow completes nothing; the command itself will say why
    rest = prefix[len(selectors):]
    return [selectors + name for name in names if name.startswith(rest)]


def target_names(workflow: str | None, vars_args: list[str], var_args: list[str]) -> list[str]:
    variables = parse_var_args(vars_args, var_args)
    for name, stand_in in dated.SENTINELS.items():
        variables.setdefault(name, stand_in)
    loaded = load_workflow(workflow_path(workflow), variables=variables, run_commands=False)
    names: dict[str, None] = {}
    for step in loaded.steps:
        names.update((relative_to(t.name, os.getcwd()), None) for t in step.outputs)
        names.update((f"%{tag}", None) for tag in step.output_tags)
    names.update((f"{method}()", None) for method in loaded.methods)
    stood_in = tuple(dated.SENTINELS.values()) + (NOT_RUN_PREFIX,)  # names that only exist per interval or run
    return [n for n in names if not any(s in n for s in stood_in)]


def run(args: argparse.Namespace) -> int:
    """`--completion SHELL`: print the script that hooks datamake into that shell."""
    sys.stdout.write(script(args.completion))
    return 0

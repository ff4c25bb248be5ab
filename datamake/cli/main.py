"""Command line: argv -> options -> the command asked for; the one place errors become exit codes."""
from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from datamake.cli.make_habits import with_hint
from datamake.cli.parser import parse_args
from datamake.errors import DatamakeError, UsageError

def main(argv: list[str] | None = None) -> int:
    """Entry point of the `datamake` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = parse_args(argv)
        args.argv = tuple(argv)  # a no-op proof is keyed by the command exactly as typed
        return dispatch(args)
    except DatamakeError as err:
        if isinstance(err, UsageError):
            err = with_hint(err, argv)
        if debug:
            traceback.print_exc()
        print(err.render(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("datamake: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line, traceback only on request
        if debug:
            raise
        print(f"datamake: error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 3


# Each mode's module, loaded only when asked for: `datamake --version` or a no-op build should not
# pay for importing the report page, the schedule runner or Dask.
_COMMANDS = {  # flag -> module:function, in order of precedence
    "completion": "completion:run",
    "print_config": "cmd_config:run",
    "lint": "cmd_lint:run",
    "print_workflow": "cmd_print:run",
    "list_steps": "cmd_list:run",
    "clean": "cmd_clean:run",
    "report": "cmd_report:run",
    "serve": "cmd_report:serve",
    "status": "cmd_status:run",
    "clear": "cmd_clear:run",
    "pause": "cmd_pause:run",
    "resume": "cmd_pause:run",
    "graph": "cmd_graph:run",
}


def dispatch(args: argparse.Namespace) -> int:
    """Run the command the flags ask for: the first mode flag given, else a build or a schedule run."""
    chosen = next((command for flag, command in _COMMANDS.items()
                   if getattr(args, flag) or (flag in ("report", "graph") and getattr(args, flag) is not None)),
                  "cmd_build:run")  # a bare --graph is ""
    module, function = chosen.split(":")
    return getattr(importlib.import_module(f"datamake.cli.{module}"), function)(args)

"""Command line: argv -> options -> the library; the one place errors become exit codes."""
from __future__ import annotations

import argparse
import sys

from datamake import __version__
from datamake.cli.make_habits import with_hint
from datamake.errors import DatamakeError, UsageError

GRAPH_FORMATS = ("dot", "mermaid", "text", "html", "svg", "png")


def build_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(
        prog="datamake",
        description="Build data workflows from a Drakefile: outputs <- inputs, rebuilt only when needed.",
        epilog="Targets: NAME (with dependencies), ^NAME (with dependants), =NAME (alone), "
        "+ forces, - removes; NAME may be a file, %tag, method(), @regex or '...'.",
        allow_abbrev=False,
    )
    p.add_argument("targets", nargs="*", metavar="TARGET", help="what to build (default: everything)")
    p.add_argument("-w", "--workflow", action="append", default=None,
                   help="workflow file or directory (default ./Drakefile); --report and --serve take several")
    p.add_argument("-j", "--jobs", type=_positive_int, default=1, help="steps to run at once (default 1)")
    p.add_argument("-P", "--preview", action="store_true", help="print the plan with reasons and exit")
    p.add_argument("-p", "--print", dest="print_workflow", action="store_true", help="print the parsed workflow and exit")
    p.add_argument("--why", action="store_true", help="explain each rebuild decision")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--check", choices=("timestamp", "hash"), default=None, help="default rebuild check")
    p.add_argument("--list", dest="list_steps", action="store_true",
                   help="list the steps with tags, state and reason, and exit")
    p.add_argument("--clean", action="store_true",
                   help="remove the outputs of the selected steps and forget their records (-P: preview)")
    p.add_argument("--drake", action="store_true",
                   help="Drake's semantics for every step: $OUTPUT is the real name, shell without -e")
    p.add_argument("-a", "--auto", action="store_true", help="answer yes to +confirm steps")
    p.add_argument("--base", default=None, help="BASE for relative names (default: the workflow's directory)")
    p.add_argument("-v", "--vars", action="append", default=[], help='variables, "A=1,B=2"')
    p.add_argument("--var", action="append", default=[], help="one variable A=1 (repeatable)")
    p.add_argument("--graph", nargs="?", const="", default=None, metavar="FORMAT",
                   help="draw the selected graph: " + ", ".join(GRAPH_FORMATS))
    p.add_argument("-o", "--output", default=None, help="file to write --graph to (format from its extension)")
    p.add_argument("--report", default=None, metavar="FORMAT",
                   help="write the report of every interval, run and attempt: html (one page) or json")
    p.add_argument("--serve", action="store_true", help="serve the report's views live, read-only")
    p.add_argument("--port", type=_port, default=8765, help="--serve's port (default 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="--serve's address (default 127.0.0.1)")
    p.add_argument("--executor", choices=("local", "dask"), default="local", help="where steps run")
    p.add_argument("--dask-scheduler", default=None, metavar="ADDRESS", help="join a Dask cluster (tcp://HOST:PORT)")
    p.add_argument("--storage-option", action="append", default=[], metavar="KEY=VALUE",
                   help="fsspec storage option, e.g. s3.endpoint_url=http://127.0.0.1:9000")
    _add_schedule_options(p.add_argument_group("schedule"))
    p.add_argument("--state-dir", default=None, help="state directory (default .datamake beside the workflow)")
    p.add_argument("--fail-fast", action="store_true", help="launch no new step after a failure")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--version", action="version", version=f"datamake {__version__}")
    return p


def _add_schedule_options(sched) -> None:
    """The schedule flags, shown under their own heading in --help."""
    sched.add_argument("--schedule", default=None, metavar="SPEC", help="hourly, daily, weekly, monthly, @preset or cron")
    sched.add_argument("--start", default=None, help="first interval (date or ISO time)")
    sched.add_argument("--tz", default=None, help="schedule time zone (default UTC)")
    sched.add_argument("--once", action="store_true", help="build what is due, then exit")
    sched.add_argument("--from", dest="from_", default=None, metavar="A", help="backfill from A (inclusive)")
    sched.add_argument("--to", default=None, metavar="B", help="backfill to B (inclusive)")
    sched.add_argument("--rerun", choices=("missing", "failed", "all"), default="missing")
    sched.add_argument("--max-active", type=_positive_int, default=1, help="intervals at once")
    sched.add_argument("--now", default=None, metavar="ISO", help="the clock (for tests and time travel)")
    sched.add_argument("--date", default=None, help="build this one interval")
    sched.add_argument("--on-failure", default=None, metavar="CMD", help="shell command per failed interval")
    sched.add_argument("--on-success", default=None, metavar="CMD", help="shell command per succeeded interval")
    sched.add_argument("--status", action="store_true", help="print intervals by step and exit")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one `datamake: error:` line, not a usage block."""

    def error(self, message: str):
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text}")
    return value


def split_targets(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], list[str]]:
    """Separate options from targets, so `-report.csv` (remove a target) is not an unknown flag."""
    takes_value: set[str] = set()
    known: set[str] = set()
    for action in parser._actions:  # argparse keeps its option table here
        for flag in action.option_strings:
            known.add(flag)
            if action.nargs != 0 and action.nargs != "?":
                takes_value.add(flag)
    options: list[str] = []
    targets: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            targets.extend(argv[i + 1:])
            break
        flag = arg.split("=", 1)[0]
        if arg in known or (arg.startswith("--") and flag in known):
            options.append(arg)
            if arg in takes_value and i + 1 < len(argv):
                options.append(argv[i + 1])
                i += 1
            elif arg == "--graph" and i + 1 < len(argv) and argv[i + 1] in GRAPH_FORMATS:
                options.append(argv[i + 1])
                i += 1
        elif len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and arg[:2] in takes_value and arg[2:].isdigit():
            options.append(arg)  # -j4
        elif arg.startswith("--") and len(arg) > 2:
            options.append(arg)  # unknown long option: let argparse say so
        else:
            targets.append(arg)
        i += 1
    return options, targets


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    options, targets = split_targets(parser, argv)
    args = parser.parse_args(options)
    args.targets = targets
    args.workflows = args.workflow or []
    if len(args.workflows) > 1 and not (args.report or args.serve):
        raise UsageError("only --report and --serve take several -w workflows")
    args.workflow = args.workflows[0] if args.workflows else None
    if args.graph and args.graph not in GRAPH_FORMATS:  # "" (a bare --graph) follows -o's extension
        raise UsageError(f"unknown graph format: {args.graph} (choose from {', '.join(GRAPH_FORMATS)})")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `datamake` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = parse_args(argv)
        return dispatch(args)
    except DatamakeError as err:
        if isinstance(err, UsageError):
            err = with_hint(err, argv)
        if debug:
            import traceback

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


def dispatch(args: argparse.Namespace) -> int:
    """Pick the command the flags ask for."""
    from datamake.cli import commands

    if args.print_workflow:
        return commands.print_workflow(args)
    if args.list_steps:
        from datamake.cli import cmd_list

        return cmd_list.run(args)
    if args.clean:
        from datamake.cli import cmd_clean

        return cmd_clean.run(args)
    if args.report is not None:
        return commands.report(args)
    if args.serve:
        return commands.serve(args)
    if args.status:
        return commands.status(args)
    if args.graph is not None:
        return commands.graph(args)
    if args.schedule or args.date or args.from_ or args.to:
        return commands.schedule(args)
    from datamake.cli.cmd_schedule import scheduled

    if scheduled(args):  # the workflow names $[DATE] & co: only the runner can bind them
        return commands.schedule(args)
    return commands.build(args)


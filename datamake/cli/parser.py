"""The command line's options: the argparse parser, argv split into options and targets, the checks."""
from __future__ import annotations

import argparse

from datamake import __version__
from datamake.cli import alerts, completion, defaults
from datamake.errors import UsageError

GRAPH_FORMATS = ("dot", "mermaid", "text", "html", "svg", "png")

EPILOG = """\
targets:
  NAME (with what it depends on), ^NAME (with what depends on it), =NAME (alone),
  +... forces, -... removes; NAME may be a file, %tag, method(), @regex or '...'

examples:
  datamake                         build everything out of date
  datamake -P --why                the plan and why each step would run
  datamake -j4 report.csv          build report.csv and its inputs, four steps at once
  datamake --lint                  check the workflow; runs nothing, not even $(command)
  datamake --question || ...       exit 1 if anything is out of date (a CI gate)
  datamake --schedule daily --once build the due intervals, then exit
  datamake --print-config          each setting and where it came from

settings:
  datamake.cfg [defaults] and DATAMAKE_* variables (DATAMAKE_JOBS=4) set defaults for
  -j, --check, --state-dir, --executor, notifiers...; the command line wins over both

exit codes:
  0  success, nothing to do, --question: up to date
  1  a step failed; --question: something is out of date
  2  usage or workflow error, nothing ran
  3  internal error (a bug; rerun with --debug)
  130, 143  interrupted (SIGINT, SIGTERM)
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line, in the groups --help shows: selection, build, output, graph, executors
    and storage, schedule, operations."""
    p = _ArgumentParser(
        prog="datamake",
        usage="datamake [OPTION ...] [TARGET ...]",
        description="Build data workflows from a Drakefile: outputs <- inputs, rebuilt only when needed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--version", action="version", version=f"datamake {__version__}",
                   help="print datamake's version and exit")
    for add in (_selection, _build, _output, _graph, _executors_and_storage, _schedule, alerts.add_arguments,
                _operations):
        add(p)
    return p


def _selection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("selection", "which workflow, which steps, which variables")
    g.add_argument("targets", nargs="*", metavar="TARGET", help="what to build (default: everything; see targets below)")
    g.add_argument("-w", "--workflow", action="append", default=None,
                   help="workflow file or directory (default ./Drakefile); --report and --serve take several")
    g.add_argument("--base", default=None, help="BASE for relative names (default: the workflow's directory)")
    g.add_argument("-v", "--vars", action="append", default=[], help='variables, "A=1,B=2"')
    g.add_argument("--var", action="append", default=[], help="one variable A=1 (repeatable)")


def _build(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("build", "how steps are decided and run")
    g.add_argument("-j", "--jobs", type=_positive_int, default=1, help="steps to run at once (default 1)")
    g.add_argument("--check", choices=("timestamp", "hash"), default=None,
                   help="default rebuild check: timestamp (default) or hash (by content)")
    g.add_argument("-a", "--auto", action="store_true", help="answer yes to +confirm steps")
    g.add_argument("--fail-fast", action="store_true", help="launch no new step after a failure")
    g.add_argument("--drake", action="store_true",
                   help="Drake's semantics for every step: $OUTPUT is the real name, shell without -e")


def _output(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output", "what datamake prints")
    g.add_argument("-P", "--preview", action="store_true", help="print the plan with reasons and exit")
    g.add_argument("-p", "--print", dest="print_workflow", action="store_true",
                   help="print the evaluated workflow and exit (runs its $(command)s; --lint does not)")
    g.add_argument("--list", dest="list_steps", action="store_true",
                   help="list the steps with tags, state and reason, and exit")
    g.add_argument("--why", action="store_true", help="explain each rebuild decision")
    g.add_argument("--json", action="store_true", help='machine-readable output, one object with "schema": 1')
    g.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour --print's workflow text (auto: when stdout is a terminal)")
    g.add_argument("--report", default=None, metavar="FORMAT",
                   help="write the report of every interval, run and attempt: html (one page) or json")
    g.add_argument("--serve", action="store_true", help="serve the report's views live, read-only")
    g.add_argument("--port", type=_port, default=8765, help="--serve's port (default 8765; 0 picks a free one)")
    g.add_argument("--host", default="127.0.0.1", help="--serve's address (default 127.0.0.1)")
    g.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    g.add_argument("--debug", action="store_true", help="show tracebacks")


def _graph(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("graph")
    g.add_argument("--graph", nargs="?", const="", default=None, metavar="FORMAT",
                   help="draw the selected graph: " + ", ".join(GRAPH_FORMATS))
    g.add_argument("-o", "--output", default=None, help="file to write --graph to (format from its extension)")


def _executors_and_storage(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("executors and storage")
    g.add_argument("--executor", choices=("local", "dask"), default="local", help="where steps run (default local)")
    g.add_argument("--dask-scheduler", default=None, metavar="ADDRESS", help="join a Dask cluster (tcp://HOST:PORT)")
    g.add_argument("--storage-option", action="append", default=[], metavar="KEY=VALUE",
                   help="fsspec storage option, e.g. s3.endpoint_url=http://127.0.0.1:9000")
    g.add_argument("--state-dir", default=None, help="state directory (default .datamake beside the workflow)")


def _schedule(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("schedule")
    g.add_argument("--schedule", default=None, metavar="SPEC", help="hourly, daily, weekly, monthly, @preset or cron")
    g.add_argument("--start", default=None, help="first interval (date or ISO time)")
    g.add_argument("--tz", default=None, help="schedule time zone (default UTC)")
    g.add_argument("--once", action="store_true", help="build what is due, then exit")
    g.add_argument("--from", dest="from_", default=None, metavar="A", help="backfill from A (inclusive)")
    g.add_argument("--to", default=None, metavar="B", help="backfill to B (inclusive)")
    g.add_argument("--rerun", choices=("missing", "failed", "all"), default="missing",
                   help="which recorded intervals to build again: missing (default), failed, or all")
    g.add_argument("--max-active", type=_positive_int, default=1, help="intervals at once")
    g.add_argument("--sweep", action="store_true",
                   help="check every recorded interval's outputs in this tick (a tick trusts old records and "
                        "does so once a day)")
    g.add_argument("--now", default=None, metavar="ISO", help="the clock (for tests and time travel)")
    g.add_argument("--date", default=None, help="build this one interval")
    g.add_argument("--status", action="store_true", help="print intervals by step and exit")
    g.add_argument("--clear", action="store_true",
                   help="mark the selected steps of --date/--from/--to's intervals (default: all recorded) to be "
                        "rebuilt by the next tick; -P shows them")
    g.add_argument("--failed", action="store_true", help="with --clear: only the steps whose last outcome failed")
    g.add_argument("--pause", action="store_true", help="pause the schedule: ticks build nothing until --resume")
    g.add_argument("--resume", action="store_true", help="resume a paused schedule")
    g.add_argument("--keep", default=None, metavar="DURATION",
                   help="prune run history and logs older than this at the end of a run, also a plain build's")


def _operations(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("operations", "checks, settings and the shell")
    g.add_argument("--lint", action="store_true",
                   help="check the workflow (or each FILE given as TARGET) without running anything, "
                        "not even $(command); exit 2 at the first error")
    g.add_argument("--question", action="store_true",
                   help="run nothing; exit 1 if a selected step is out of date, 0 if all are up to date")
    g.add_argument("--clean", action="store_true",
                   help="remove the outputs of the selected steps and forget their records (-P: preview)")
    g.add_argument("--print-config", action="store_true",
                   help="show each project setting, its value and where it came from "
                        "(command line > DATAMAKE_* > datamake.cfg [defaults] > default), and exit")
    g.add_argument("--completion", choices=("bash", "zsh", "fish"), default=None, metavar="SHELL",
                   help='print the completion script for bash, zsh or fish: eval "$(datamake --completion bash)"')


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
    """Options over DATAMAKE_* variables over the config file's [defaults] (cli/defaults.py)."""
    parser = build_parser()
    completion.autocomplete(parser)  # answers the shell and exits when TAB was pressed
    options, targets = split_targets(parser, argv)
    first = parser.parse_args(options)  # -w says whose datamake.cfg applies
    settings = defaults.apply(parser, options, (first.workflow or [None])[0])
    args = parser.parse_args(options)
    _refuse_empty_values(parser, args)
    args.targets = targets
    args.workflows = args.workflow or []
    if len(args.workflows) > 1 and not (args.report or args.serve):
        raise UsageError("only --report and --serve take several -w workflows")
    args.workflow = args.workflows[0] if args.workflows else None
    args.settings = settings
    if args.graph and args.graph not in GRAPH_FORMATS:  # "" (a bare --graph) follows -o's extension
        raise UsageError(f"unknown graph format: {args.graph} (choose from {', '.join(GRAPH_FORMATS)})")
    return args


# Options whose empty value would silently mean "not given" (`--now ""` falling back to the clock).
_LISTS = ("vars", "var", "storage_option")


def _refuse_empty_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for action in parser._actions:  # argparse keeps its option table here
        value = getattr(args, action.dest, None)
        if action.option_strings and action.dest not in _LISTS and action.dest != "graph" \
                and (value == "" or (isinstance(value, list) and "" in value)):
            raise UsageError(f"argument {'/'.join(action.option_strings)}: empty value")

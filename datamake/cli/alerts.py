"""The alert flags (--on-failure & co, --notify) and the workflow's %on / %notify, as one event sink."""
from __future__ import annotations

import argparse

from datamake.errors import UsageError
from datamake.events import DEFAULT_NOTIFY, GROUPS, check_filter
from datamake.language.options import duration_seconds
from datamake.notify.dispatch import Dispatcher, dispatcher
from datamake.notify.hooks import HOOK_TIMEOUT, Hook

# flag -> the event group its command runs on
HOOK_FLAGS = {"--on-start": "start", "--on-retry": "retry", "--on-failure": "failure", "--on-success": "success",
              "--on-sla-miss": "sla-miss", "--on-recovery": "recovery", "--on-event": "all"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("alerts", "hooks and notifiers, on plain builds and schedules")
    for flag, events in HOOK_FLAGS.items():
        group.add_argument(flag, action="append", default=[], metavar="CMD",
                           help=f"shell command on each {events} event (repeatable)")
    group.add_argument("--hook-timeout", default=None, metavar="DURATION",
                       help=f"stop a hook running longer than this (default {HOOK_TIMEOUT:g}s)")
    group.add_argument("--notify", action="append", default=[], metavar="URL",
                       help="send events through apprise to URL (mailto://, slack://, json://, ...)")
    group.add_argument("--notify-on", default=None, metavar="EVENTS",
                       help=f"which events --notify sends (default {','.join(DEFAULT_NOTIFY)})")


def dispatcher_of(args: argparse.Namespace, workflow) -> Dispatcher:
    """Hooks and notifiers from the command line, then those the workflow declares."""
    hooks = [Hook(cmd, (HOOK_FLAGS[flag],), flag) for flag in HOOK_FLAGS for cmd in getattr(args, _dest(flag))]
    urls = [(url, _notify_on(args.notify_on)) for url in args.notify]
    timeout = duration_seconds(args.hook_timeout, "--hook-timeout", None) if args.hook_timeout else HOOK_TIMEOUT
    return dispatcher(workflow, hooks, urls, timeout)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _notify_on(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_NOTIFY
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = check_filter(names)
    if bad is not None:
        raise UsageError(f"--notify-on: unknown event {bad} (events: {', '.join(GROUPS)}, or a kind such as step_failed)")
    return tuple(names)


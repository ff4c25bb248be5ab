"""Operations directives: `%on EVENT...` (a shell hook body), `%notify URL on:EVENTS`, `%pool NAME SLOTS`."""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Callable

from datamake.errors import WorkflowError
from datamake.events import DEFAULT_NOTIFY, GROUPS, KINDS, check_filter
from datamake.language.expand import did_you_mean
from datamake.language.syntax import Directive, Text
from datamake.model import HookDecl, NotifyDecl, PoolDecl

_NAMES = (*GROUPS, *KINDS)


class Operations:
    """Collects the directives of a workflow (and the files it includes), checked as they come."""

    def __init__(self) -> None:
        self.hooks: list[HookDecl] = []
        self.notifiers: list[NotifyDecl] = []
        self.pools: dict[str, PoolDecl] = {}

    def fields(self) -> dict:
        """Keyword arguments for model.Workflow."""
        return {"hooks": tuple(self.hooks), "notifiers": tuple(self.notifiers),
                "pools": MappingProxyType(dict(self.pools))}

    def add(self, item: Directive, expand: Callable[[Text], str]) -> None:
        getattr(self, "_" + item.name)(item, expand)

    def _on(self, item: Directive, expand: Callable[[Text], str]) -> None:
        if not item.args:
            raise WorkflowError("%on needs the events it runs on, e.g. `%on failure sla-miss`", item.loc)
        if not item.body:
            raise WorkflowError("%on needs an indented shell command below it", item.loc)
        events = tuple(_events(item.args, expand))
        self.hooks.append(HookDecl(events, "\n".join(line.text for line in item.body), item.loc))

    def _notify(self, item: Directive, expand: Callable[[Text], str]) -> None:
        if not item.args:
            raise WorkflowError("%notify needs a notifier URL, e.g. `%notify mailtos://...` or `%notify $[ALERT_URL]`",
                                item.loc)
        url, events = None, DEFAULT_NOTIFY
        for arg in item.args:
            if arg.value.startswith("on:"):
                events = tuple(_events([Text(arg.value[3:], arg.path, arg.line, arg.col + 3)], expand))
            elif url is None:
                url = expand(arg)
            else:
                raise WorkflowError("%notify takes one URL (then on:EVENTS); write one %notify per URL", arg.loc)
        if not url:
            raise WorkflowError("%notify: the URL is empty (is its variable set?)", item.args[0].loc)
        self.notifiers.append(NotifyDecl(url, events, item.loc))

    def _pool(self, item: Directive, expand: Callable[[Text], str]) -> None:
        if len(item.args) != 2:
            raise WorkflowError("%pool takes a name and a number of slots, e.g. `%pool db 2`", item.loc)
        name, slots = (expand(arg) for arg in item.args)
        if not re.fullmatch(r"[1-9][0-9]*", slots):
            raise WorkflowError(f"%pool {name}: slots must be a whole number of at least 1, not {slots!r}",
                                item.args[1].loc)
        if name in self.pools:
            raise WorkflowError(f"pool {name} is declared twice (first at {self.pools[name].loc})", item.loc)
        self.pools[name] = PoolDecl(name, int(slots), item.loc)


def _events(args, expand: Callable[[Text], str]):
    """Event names from arguments written `failure sla-miss` or `failure,sla-miss`."""
    for arg in args:
        names = [n for n in re.split(r"[,\s]+", expand(arg)) if n]
        bad = check_filter(names)
        if bad is not None:
            raise WorkflowError(f"unknown event: {bad}{did_you_mean(bad, _NAMES)} "
                                f"(events: {', '.join(GROUPS)}, or a kind such as step_failed)", arg.loc)
        yield from names

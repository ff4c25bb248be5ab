"""The event sink of a run: each event goes to the hooks and notifiers whose filter matches it."""
from __future__ import annotations

import threading
from typing import Callable

from datamake.errors import warn
from datamake.events import Event, matches
from datamake.notify.hooks import HOOK_TIMEOUT, Hook, run_hook
from datamake.notify.apprise_notifier import AppriseNotifier, NotifierSpec, shown


class Dispatcher:
    """Calls hooks, then notifiers, for every matching event, one event at a time.

    Problems (a hook's exit status, an undelivered notification) are warnings: an alert that
    fails never fails the build it reports on.
    """

    def __init__(self, hooks: list[Hook], notifiers: list[NotifierSpec], warn: Callable[[str], None],
                 hook_timeout: float = HOOK_TIMEOUT):
        self.hooks = hooks
        self.notifiers = [AppriseNotifier(spec) for spec in notifiers]
        self.warn = warn
        self.hook_timeout = hook_timeout
        self._lock = threading.Lock()  # intervals under --max-active emit from several threads

    def __bool__(self) -> bool:
        return bool(self.hooks or self.notifiers)

    def __call__(self, event: Event) -> None:
        with self._lock:
            for hook in self.hooks:
                if matches(hook.events, event):
                    self._problem(run_hook(hook, event, self.hook_timeout))
            for notifier in self.notifiers:
                if matches(notifier.spec.events, event):
                    self._problem(notifier.send(event))

    def _problem(self, text: str | None) -> None:
        if text:
            self.warn(text)


def dispatcher(workflow, hooks: list[Hook] = (), urls: list[tuple[str, tuple[str, ...]]] = (),
               hook_timeout: float = HOOK_TIMEOUT) -> Dispatcher:
    """The given hooks and notifier URLs (each with its event filter), then those `workflow` declares
    (`%on`, `%notify`). Raises UsageError for a URL apprise cannot read, or when apprise is missing."""
    hooks = [*hooks, *(Hook(h.command, h.events, f"%on at {h.loc}") for h in (workflow.hooks if workflow else ()))]
    urls = [*urls, *((n.url, n.events) for n in (workflow.notifiers if workflow else ()))]
    specs = [NotifierSpec(url, events, shown(url, number)) for number, (url, events) in enumerate(urls, 1)]
    return Dispatcher(hooks, specs, warn, hook_timeout)

"""Notifiers through apprise (email, Slack, Teams, Discord, webhooks, ...): the optional `datamake[notify]`.

A notifier URL often holds a secret (a password, a webhook token); it is never printed, logged
or recorded: messages name a notifier by its scheme and position only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from datamake.errors import UsageError
from datamake.events import Event

_TYPES = {"step_succeeded": "success", "interval_succeeded": "success", "recovered": "success",
          "step_started": "info", "step_retried": "warning", "sla_missed": "warning"}


@dataclass(frozen=True)
class NotifierSpec:
    """A notifier URL and the events (kinds or groups) it gets."""

    url: str = field(repr=False)
    events: tuple[str, ...]
    name: str  # how messages call it: `notifier 1 (mailto)`, never the URL


def shown(url: str, number: int) -> str:
    """A notifier's name in messages: its position and scheme, nothing a secret could hide in."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"notifier {number} ({scheme})"


class AppriseNotifier:
    """One URL through apprise; built once per run, so a bad URL stops the run before it starts."""

    def __init__(self, spec: NotifierSpec):
        apprise = _apprise()
        self.spec = spec
        self.apprise = apprise.Apprise()
        if not self.apprise.add(spec.url):
            raise UsageError(f"{spec.name}: apprise does not understand this URL",
                             hint="see https://github.com/caronc/apprise/wiki for the URL of each service")

    def send(self, event: Event) -> str | None:
        """Deliver `event`; a one-line problem (naming no URL), or None."""
        try:
            ok = self.apprise.notify(title=event.title(), body=event.body(),
                                     notify_type=_TYPES.get(event.kind, "failure"))
        except Exception as exc:  # noqa: BLE001 - a notifier must not stop the run; its text may hold the URL
            return f"{self.spec.name} could not deliver {event.kind} ({type(exc).__name__})"
        return None if ok else f"{self.spec.name} could not deliver {event.kind}"


def _apprise():
    try:
        import apprise  # heavy, and optional: only runs with notifiers import it
    except ImportError:
        raise UsageError("notifiers need apprise, which is not installed",
                         hint="pip install 'datamake[notify]'") from None
    # apprise logs failed deliveries with hosts and paths (where tokens live): keep it quiet.
    log = logging.getLogger("apprise")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return apprise

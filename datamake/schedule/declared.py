"""A schedule from its parts (`%schedule` keys or the flags that win over them), every mistake located."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from datamake.errors import DatamakeError, SourceLocation, UsageError, WorkflowError
from datamake.language.options import duration_seconds
from datamake.schedule.intervals import Schedule, parse_time, zone

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Declared:
    """What a schedule declaration says, checked: the Schedule and the settings around it."""

    schedule: Schedule
    start: datetime | None  # UTC: the first interval to catch up from
    catchup: bool = True
    waits: Mapping[str, float] | None = None  # "wait"/"poke"/"keep"/"sla" -> seconds, when given


def declared(parts: Mapping[str, str], locs: Mapping[str, SourceLocation]) -> Declared:
    """`parts`: spec, tz, start, end, catchup, wait, poke, keep, sla (absent when not given); `locs`: where the ones
    written in `%schedule` are, so an error points there (a flag's value has no location)."""
    tz = _located(lambda: zone(parts.get("tz")), locs.get("tz"))
    start = _time(parts, "start", tz, locs)
    end = _time(parts, "end", tz, locs)
    schedule = _located(lambda: Schedule(parts["spec"], parts.get("tz"), start, end), locs.get("spec"))
    if start is not None and end is not None and end <= start:
        raise _at(UsageError(f"end:{parts['end']} is not after start:{parts['start']}"), locs.get("end"))
    waits = {key: _located(lambda key=key: duration_seconds(parts[key], key, None), locs.get(key))
             for key in ("wait", "poke", "keep", "sla") if parts.get(key)}
    return Declared(schedule, start, _flag(parts, "catchup", locs), waits)


def _time(parts, key: str, tz, locs) -> datetime | None:
    text = parts.get(key)
    return _located(lambda: parse_time(text, tz), locs.get(key)) if text else None


def _flag(parts, key: str, locs) -> bool:
    value = parts.get(key, "true").lower()
    if value not in _TRUE + _FALSE:
        raise _at(UsageError(f"{key}:{parts[key]} is not true or false"), locs.get(key))
    return value in _TRUE


def _located(make, loc: SourceLocation | None):
    try:
        return make()
    except DatamakeError as exc:
        raise _at(exc, loc) from None


def _at(exc: DatamakeError, loc: SourceLocation | None) -> DatamakeError:
    if loc is None or exc.loc is not None:
        return exc
    return WorkflowError(exc.message, loc, hint=exc.hint)

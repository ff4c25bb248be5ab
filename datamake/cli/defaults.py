"""Project defaults: `[defaults]` in datamake.cfg and `DATAMAKE_*` variables, under the command line.

Precedence: command line > environment > config file > built-in default. The values go in as
argparse defaults, so whatever reads the parsed options sees one value per flag. Only settings
that make sense for a whole project are accepted (a mode such as --print or a selection such as
--date never is); `--print-config` shows each one's value and where it came from.
"""
from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from datamake.errors import UsageError
from datamake.language.expand import did_you_mean
from datamake.notify.apprise_notifier import shown
from datamake.store import storage_options

CONFIGURABLE = ("jobs", "check", "state-dir", "executor", "dask-scheduler", "fail-fast", "auto", "quiet",
                "color", "drake", "max-active", "tz", "rerun")
# Notifier and hook settings (URLs, addresses, --on-failure & co) are project settings too.
_NOTIFIER = re.compile(r"(notify|notifier|webhook|hook|smtp|email|mail|^on-)")
_NEXT_URL = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")  # a comma before `scheme://`
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Setting:
    name: str  # the long flag without its dashes
    value: Any
    source: str  # "command line", "$DATAMAKE_JOBS", "/p/datamake.cfg [defaults]" or "default"


def configurable(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Long flag name -> action, for every flag a project may set a default for."""
    found = {}
    for action in parser._actions:  # argparse keeps its option table here
        longs = [f[2:] for f in action.option_strings if f.startswith("--")]
        if not longs or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        notifier = bool(_NOTIFIER.search(longs[0]))
        if isinstance(action, argparse._AppendAction) and not notifier:
            continue  # -v/--var/--storage-option: the config file has its own places for those
        if longs[0] in CONFIGURABLE or notifier:
            found[longs[0]] = action
    return found


def env_name(name: str) -> str:
    return "DATAMAKE_" + name.upper().replace("-", "_")


def apply(parser: argparse.ArgumentParser, options: list[str], workflow: str | None,
          environ: Mapping[str, str] = os.environ) -> dict[str, Setting]:
    """Set the parser's defaults from the environment and the config file; returns every setting's source."""
    actions = configurable(parser)
    directory = _config_dir(workflow)
    written = storage_options.read_section(directory, "defaults")
    where = f"{storage_options.config_path(directory)} [defaults]"
    for key in written:
        if key not in actions:
            raise UsageError(f"{where}: unknown setting: {key}{did_you_mean(key, actions)}",
                             hint="settings are long flag names: " + ", ".join(sorted(actions)))
    settings: dict[str, Setting] = {}
    for name, action in actions.items():
        if _given(action, options):
            settings[name] = Setting(name, None, "command line")
        elif env_name(name) in environ:
            settings[name] = Setting(name, convert(action, environ[env_name(name)], "$" + env_name(name)),
                                     "$" + env_name(name))
        elif name in written:
            settings[name] = Setting(name, convert(action, written[name], f"{where} {name}"), where)
        else:
            settings[name] = Setting(name, action.default, "default")
    parser.set_defaults(**{actions[s.name].dest: s.value for s in settings.values()
                           if s.source not in ("command line", "default")})
    return settings


def convert(action: argparse.Action, text: str, where: str) -> Any:
    """A setting's text as the flag would take it, or a UsageError naming where it was written."""
    text = text.strip()
    if isinstance(action, argparse._AppendAction):  # a repeatable flag: several values
        return [convert_one(action, item.strip(), where) for item in _items(action, text) if item.strip()]
    return convert_one(action, text, where)


def _items(action: argparse.Action, text: str) -> list[str]:
    """One value per line when written on several; on one line, comma-separated. A URL may hold
    commas itself (apprise's `?to=a@x.org,b@y.org`), so notifier URLs part only where a new URL starts."""
    if "\n" in text:
        return text.splitlines()
    return _NEXT_URL.split(text) if action.dest == "notify" else text.split(",")


def convert_one(action: argparse.Action, text: str, where: str) -> Any:
    if action.nargs == 0:  # an on/off flag
        if text.lower() in _TRUE or text.lower() in _FALSE:
            return text.lower() in _TRUE
        raise UsageError(f"{where}: expected true or false, got {text!r}")
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from None
    if action.choices is not None and value not in action.choices:
        raise UsageError(f"{where}: {text!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def _given(action: argparse.Action, options: list[str]) -> bool:
    for arg in options:
        for flag in action.option_strings:
            if arg == flag or (flag.startswith("--") and arg.startswith(flag + "=")) \
                    or (not flag.startswith("--") and arg.startswith(flag) and not arg.startswith("--")):
                return True
    return False


def _config_dir(workflow: str | None) -> str:
    """The folder whose datamake.cfg applies: the workflow's (a missing one is reported later)."""
    path = os.path.abspath(workflow or "Drakefile")
    return path if os.path.isdir(path) else os.path.dirname(path)


def render(settings: dict[str, Setting], args: argparse.Namespace, actions: dict[str, argparse.Action]) -> dict:
    """`--print-config`'s data: each setting's effective value and its source."""
    rows = [{"name": s.name, "value": _shown(s.name, getattr(args, actions[s.name].dest)), "source": s.source,
             "env": env_name(s.name)} for s in settings.values()]
    return {"settings": sorted(rows, key=lambda row: row["name"])}


def _shown(name: str, value: Any) -> Any:
    """A setting's value as --print-config shows it: notifier URLs may hold secrets, so never those."""
    if name != "notify" or not value:
        return value
    return [shown(url, number) for number, url in enumerate(value, 1)]

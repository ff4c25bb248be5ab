"""Errors the user can act on, with source positions and the one caret renderer; the one warning renderer."""
from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass

# Text of every workflow file read in this process, so any layer can draw a caret
# under a location without re-reading (or mis-reading a file changed since).
_SOURCES: dict[str, str] = {}


def remember_source(path: str, text: str) -> None:
    """Record a file's text so later errors at locations in it can show the line."""
    _SOURCES[path] = text


def source_line(path: str, line: int) -> str | None:
    """The 1-based line of a remembered (or readable) file, without its newline."""
    text = _SOURCES.get(path)
    if text is None:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            return None
        _SOURCES[path] = text
    # Only "\n" ends a line, as in the parser: splitlines() would also split on form feeds etc.
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None


@dataclass(frozen=True)
class SourceLocation:
    """A 1-based line and column in a workflow file."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}:{self.col}"


def display_path(path: str) -> str:
    """A path as a user would type it: relative when under the current directory."""
    try:
        cwd = os.getcwd()
    except OSError:
        return path
    prefix = cwd.rstrip(os.sep) + os.sep
    return path[len(prefix):] if path.startswith(prefix) else path


class DatamakeError(Exception):
    """An error meant for the user: one clear message, an exit code, no traceback."""

    exit_code = 2

    def __init__(self, message: str, loc: SourceLocation | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.hint = hint

    def render(self) -> str:
        """`FILE:LINE:COL: error: msg (hint)` + source line + caret, or one line `datamake: error: msg (hint)`."""
        message = f"{self.message} ({self.hint})" if self.hint else self.message
        if self.loc is None:
            return f"datamake: error: {message}"
        text = f"{self.loc}: error: {message}"
        line = source_line(self.loc.path, self.loc.line)
        if line is not None:
            text += "\n" + line + "\n" + caret_under(line, self.loc.col)
        return text

    def __str__(self) -> str:
        return self.render()


def caret_under(line: str, col: int) -> str:
    """A caret at 1-based `col`, copying tabs from `line` so it lines up in a terminal."""
    pad = "".join(ch if ch == "\t" else " " for ch in line[: max(col - 1, 0)])
    return pad + "^"


def render_warning(message: str) -> str:
    """The one form of a warning: `datamake: warning: message`."""
    return f"datamake: warning: {message}"


def warn(message: str) -> None:
    """Print a warning on stderr at once, whatever the output mode: a warning never waits in a buffer."""
    print(render_warning(message), file=sys.stderr, flush=True)


class WorkflowError(DatamakeError):
    """The workflow text is wrong: always carries a location when one is known."""


class ScheduleDeclError(WorkflowError):
    """A `%schedule` line is wrong: reported even where other evaluation errors are tolerated."""


class UsageError(DatamakeError):
    """The command line asks for something impossible (unknown target, bad flag value)."""


class LockHeld(UsageError):
    """Another datamake holds the state directory's lock."""


class StepFailure(DatamakeError):
    """One or more steps failed while running."""

    exit_code = 1


class Interrupted(DatamakeError):
    """The run was stopped by a signal; exit code follows the shell convention."""

    def __init__(self, signum: int):
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}")
        self.exit_code = 128 + signum


def one_line(err: Exception) -> str:
    """One line for a DatamakeError or an OSError met while preparing, publishing or cleaning up."""
    if isinstance(err, DatamakeError):
        return err.message
    if isinstance(err, OSError) and err.strerror:
        return f"{err.filename}: {err.strerror}" if err.filename else err.strerror
    return str(err) or type(err).__name__

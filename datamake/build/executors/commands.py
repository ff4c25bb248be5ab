"""The command that runs a job: its interpreter by protocol, its script inline or in a temp file."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from functools import lru_cache
from typing import NamedTuple

from datamake.build.environment import too_long
from datamake.build.executors.base import Job
from datamake.build.executors.shell import plain_command, strict_argv, strict_script

_SUFFIXES = {"shell": ".sh", "python": ".py", "ruby": ".rb", "node": ".js", "R": ".R"}
# Shell bodies shorter than this (in characters, so at most 4x in bytes) run as `bash -c BODY`:
# well under Linux's 128 KiB limit on one argument. Longer ones go through a temp file.
_INLINE_LIMIT = 16 * 1024


class Command(NamedTuple):
    """How to start a job: argv, environment, a temp script to remove afterwards, the program's path
    when datamake found it (else argv[0] is looked up on PATH)."""

    argv: list[str]
    env: dict[str, str]
    script: str | None = None
    executable: str | None = None


class ProtocolError(Exception):
    """A job cannot start: unknown protocol, its interpreter is missing, or its environment is too big."""


def command_for(job: Job) -> Command:
    """The argv and environment running `job`, and the temp script to remove afterwards."""
    if job.protocol == "eval":
        first, _, rest = job.script.partition("\n")
        return Command([_need(job, "bash"), "-c", first], {**job.env, "CODE": rest})
    if job.protocol not in _SUFFIXES:
        raise ProtocolError(f"unknown protocol {job.protocol}")
    unfit = too_long(job.env, job.script)
    if unfit:
        raise ProtocolError(unfit)
    direct = _direct(job) if job.protocol == "shell" else None
    if direct:
        return direct
    interpreter = _interpreter(job)
    text = strict_script(job.script) if job.protocol == "shell" and not job.drake else job.script
    if job.protocol == "shell" and len(text) < _INLINE_LIMIT:
        # No temp file to write, have bash read and remove: ~0.4 ms less per step. $0 names us
        # in bash's messages ("datamake: line 2: ..."), as the script's path would.
        return Command([*interpreter, "-c", text, "datamake"], job.env)
    script = _write_script(text, _SUFFIXES[job.protocol])
    return Command([*interpreter, script], job.env, script)


def _direct(job: Job) -> Command | None:
    """A body that is one plain command runs without bash (see shell.plain_command), as make does;
    its program must be on PATH and be a binary or a `#!` script, else bash runs it as usual."""
    words = plain_command(job.script, job.env)
    program = words and _program(words[0], job.env.get("PATH", os.defpath))
    if not program:
        return None
    # bash would set $PWD to the step's directory before running the command: so do we.
    env = job.env if job.env.get("PWD") == job.cwd else {**job.env, "PWD": job.cwd}
    return Command(words, env, None, program)  # argv[0] as written, as bash passes it


@lru_cache(maxsize=256)
def _program(name: str, path: str) -> str | None:
    if ("/" in name and not os.path.isabs(name)) or not all(map(os.path.isabs, path.split(os.pathsep))):
        return None  # relative to the step's directory, not ours: bash finds it
    found = _which(name, path)
    try:
        with open(found or "", "rb") as handle:
            magic = handle.read(4)
    except OSError:
        return None
    return found if magic == b"\x7fELF" or magic.startswith(b"#!") else None


def _interpreter(job: Job) -> list[str]:
    path = job.env.get("PATH", os.defpath)
    if job.protocol == "shell":
        return [_need(job, "bash")] if job.drake else strict_argv(_need(job, "bash"))
    if job.protocol == "python":
        # DATAMAKE_PYTHON: the interpreter of Python steps (a Flow's callables set it to their own).
        return [job.env.get("DATAMAKE_PYTHON") or _which("python3", path) or sys.executable]
    if job.protocol == "R":
        if _which("Rscript", path):
            return [_which("Rscript", path)]
        return [_need(job, "R"), "--slave", "-f"]
    return [_need(job, job.protocol)]


def _need(job: Job, program: str) -> str:
    found = _which(program, job.env.get("PATH", os.defpath))
    if found is None:
        raise ProtocolError(f"protocol {job.protocol} needs '{program}' on PATH")
    return found


@lru_cache(maxsize=64)
def _which(program: str, path: str) -> str | None:
    # Cached: a thousand-step build would otherwise walk PATH a thousand times.
    return shutil.which(program, path=path)


def _write_script(text: str, suffix: str) -> str:
    fd, path = tempfile.mkstemp(prefix="datamake-", suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    return path

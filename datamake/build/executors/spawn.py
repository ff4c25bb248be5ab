"""Starting a step's process: `os.posix_spawn` where it can do what `subprocess.Popen` would, else Popen.

Popen encodes the whole environment in Python, one variable at a time, for every process: with
fifty variables that was most of what starting a tiny step cost datamake. `os.posix_spawn` does
the same in C. It cannot change the child's directory, so it is used only for steps that run in
datamake's own directory (the usual case). Popen's `close_fds` closes every descriptor above 2 in
the child; datamake's own are never inherited, and those it was started with (a shell's, a job
server's) are listed once per executor and closed by posix_spawn in the child.
"""
from __future__ import annotations

import errno
import os
import signal
import subprocess

from datamake.build.executors.commands import Command

# Python ignores SIGPIPE (and SIGXFSZ); Popen puts them back to default in the child, and so do we.
_RESTORED = (signal.SIGPIPE, signal.SIGXFSZ)


def spawn(command: Command, cwd: str, stdin, inherited: tuple[int, ...] | None):
    """Start `command` in `cwd` in a new session, stdout and stderr to pipes; a Popen or a `Spawned`.

    `inherited`: the inheritable descriptors to close in the child (`inherited_fds`); None: use Popen."""
    executable = command.executable or (command.argv[0] if os.path.isabs(command.argv[0]) else None)
    if inherited is not None and executable and cwd == os.getcwd():
        try:
            return Spawned(command._replace(executable=executable), stdin, inherited)
        except OSError as exc:
            if exc.errno != errno.EBADF:  # a C library that refuses to close what is already closed
                raise
    return subprocess.Popen(command.argv, executable=command.executable, cwd=cwd, env=command.env, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


class Spawned:
    """The part of Popen the local executor uses: pid, returncode, stdout, stderr, wait(), poll()."""

    def __init__(self, command: Command, stdin, inherited: tuple[int, ...]):
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        actions = [(os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2),
                   *((os.POSIX_SPAWN_CLOSE, fd) for fd in inherited)]
        if stdin == subprocess.DEVNULL:
            actions.insert(0, (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
        try:
            self.pid = os.posix_spawn(command.executable, command.argv, command.env, file_actions=actions,
                                      setsid=True, setsigdef=_RESTORED)
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        self.stdout, self.stderr = PipeEnd(out_r), PipeEnd(err_r)
        self.returncode: int | None = None

    def wait(self) -> int:
        """The exit status (negative: killed by that signal), waiting for the process to exit."""
        if self.returncode is None:
            self._reaped(os.waitpid(self.pid, 0)[1])
        return self.returncode

    def poll(self) -> int | None:
        """The exit status if the process has exited, else None."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._reaped(status)
        return self.returncode

    def _reaped(self, status: int) -> int:
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


class PipeEnd:
    """A pipe's read end, as the executor uses a file object (fileno, close): opening a file object
    on it costs an fstat per pipe, two per step."""

    __slots__ = ("fd",)

    def __init__(self, fd: int):
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:  # as a file object would: a dropped job leaks no descriptor
        self.close()


def inherited_fds() -> tuple[int, ...] | None:
    """The inheritable descriptors above 2 this process holds (datamake makes none); None if unknown."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return None  # cannot tell: Popen closes them all
    inherited = []
    for fd in fds:
        try:
            if fd > 2 and os.get_inheritable(fd):
                inherited.append(fd)
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return tuple(inherited)

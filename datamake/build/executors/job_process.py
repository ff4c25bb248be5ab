"""One job's process: started in its own process group, its output copied to a log and to a receiver
of lines, its timeout enforced by signals to the whole group. A `_Loop` of the local executor drives it."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import deque
from typing import Callable

from datamake.build.attempt_logs import open_log
from datamake.build.executors.base import Job, JobResult
from datamake.build.executors.commands import Command, ProtocolError, command_for
from datamake.build.executors.shell import sigpipe_hint
from datamake.build.executors.spawn import Spawned, spawn

TERM_GRACE = 2.0  # seconds a process group gets between SIGTERM and SIGKILL
TAIL_LINES = 20


class JobProcess:
    """One job's process, its output pipes, its log and its timeout; driven by a _Loop."""

    REAP_POLL = 0.005  # seconds between looks at a process whose exit cannot be watched (no pidfd)

    def __init__(self, job: Job, stdin, on_lines: Callable[[JobProcess, list[str], bool], None],
                 inherited: tuple[int, ...] | None = None):
        self.job = job
        self.stdin = stdin
        self.inherited = inherited
        self.on_lines = on_lines
        self.proc: subprocess.Popen | Spawned | None = None
        self.command: Command | None = None
        self.pipes: list = []
        self.partial: dict[int, bytes] = {}
        self.pidfd: int | None = None
        self.reap_poll_at: float | None = None
        self.log = _Log(job.log_path)
        self.started = time.time()
        self.cancelled = self.timed_out = False
        self.deadline = None if job.timeout is None else time.monotonic() + job.timeout
        self.kill_at: float | None = None  # monotonic time to escalate to SIGKILL
        self.give_up_at: float | None = None  # stop reading a pipe an escaped process holds
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.log_error: str | None = None  # the log could not be written (a full disk): the step is stopped
        # Seconds between looks at the clock while nothing happens: set when another thread may
        # ask for a stop (StepRun.cancel) that the loop must act on without being woken.
        self.poll: float | None = None

    def start(self) -> JobResult | None:
        """Start the process; the job's result if it could not start."""
        try:
            self.command = command_for(self.job)
        except ProtocolError as exc:
            return self.result(None, str(exc))
        try:
            self.proc = spawn(self.command, self.job.cwd, self.stdin, self.inherited)
        except OSError as exc:
            self._remove_script()
            return self.result(None, _start_error(exc, self.command.argv[0], self.job.cwd))
        self.pipes = [self.proc.stdout, self.proc.stderr]
        self.partial = {self.proc.stdout.fileno(): b"", self.proc.stderr.fileno(): b""}
        if self.cancelled:  # cancelled (from another thread) while we were starting
            self.send(signal.SIGTERM)
        return None

    def read(self, pipe) -> bool:
        """Copy what the pipe holds to the log and the lines' receiver; False at its end."""
        chunk = os.read(pipe.fileno(), 65536)
        if not chunk:
            return False
        self._write_log(chunk)
        fd = pipe.fileno()
        self.partial[fd] = self._lines(self.partial[fd] + chunk, pipe is self.proc.stderr)
        return True

    def close_pipe(self, pipe) -> None:
        rest = self.partial.pop(pipe.fileno(), b"")
        if rest:
            self._lines(rest + b"\n", pipe is self.proc.stderr)
        pipe.close()
        self.pipes.remove(pipe)

    def reap(self, block: bool) -> int | None:
        """The exit status once the process has exited (waiting for it when `block`), else None."""
        return self.proc.wait() if block else self.proc.poll()

    def watch_exit(self) -> int | None:
        """A descriptor that becomes readable when the process exits (Linux's pidfd), or None: polled."""
        if self.pidfd is None:
            try:
                self.pidfd = os.pidfd_open(self.proc.pid)
            except (AttributeError, OSError):
                self.reap_poll_at = time.monotonic() + self.REAP_POLL
                return None
        return self.pidfd

    def finish(self) -> JobResult:
        self.release()
        return self.result(self.proc.returncode, None)

    def release(self) -> None:
        """Close what the job holds: its pipes, its exit watch, its log; remove its temp script."""
        for pipe in self.pipes:
            pipe.close()
        self.pipes = []
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        self.log.close()
        self._remove_script()

    def _remove_script(self) -> None:
        if self.command is not None and self.command.script:
            _unlink(self.command.script)
            self.command = self.command._replace(script=None)

    def _write_log(self, chunk: bytes) -> None:
        """Append to the log; when it cannot be written, stop the step (its output would be lost) and drop the log."""
        if self.log.broken:
            return
        try:
            self.log.write(chunk)
        except OSError as exc:
            self.log_error = f"cannot write its log {self.job.log_path}: {exc.strerror or exc}"
            self.send(signal.SIGTERM)

    def _lines(self, data: bytes, stderr: bool) -> bytes:
        """Hand on the complete lines in `data`; return the unfinished rest."""
        *complete, rest = data.split(b"\n")
        if complete:
            lines = [c.decode("utf-8", "replace") for c in complete]
            self.tail.extend(lines)
            self.on_lines(self, lines, stderr)
        return rest

    def next_mark(self) -> float | None:
        """The monotonic time of the next thing to do (time out, escalate, look at the exit), or None."""
        marks = [m for m in (self.kill_at, self.give_up_at, None if self.timed_out else self.deadline,
                             self.reap_poll_at) if m is not None]
        return min(marks) if marks else None

    def tick(self, now: float) -> bool:
        """Act on a passed deadline; True when the pipes should be abandoned (or the exit be looked at)."""
        if self.reap_poll_at is not None and now >= self.reap_poll_at:
            self.reap_poll_at = now + self.REAP_POLL
            if not self.pipes and self.proc.poll() is not None:
                return True
        if self.give_up_at is not None and now >= self.give_up_at:
            return True
        if self.kill_at is not None and now >= self.kill_at:
            self.send(signal.SIGKILL)
        elif self.deadline is not None and not self.timed_out and now >= self.deadline:
            self.timed_out = True
            self.send(signal.SIGTERM)
        return False

    def send(self, signum: int, cancel: bool = False) -> None:
        """Send `signum` to the job's whole process group (safe from any thread)."""
        self.cancelled = self.cancelled or cancel
        if signum == signal.SIGKILL:
            self.kill_at, self.give_up_at = None, time.monotonic() + 1.0
        else:
            self.kill_at = time.monotonic() + TERM_GRACE
        if self.proc is None or self.proc.returncode is not None:
            return  # not started, or reaped: its group id may be someone else's by now
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass  # the group is already gone

    def result(self, returncode: int | None, error: str | None) -> JobResult:
        if self.log_error:  # even a step that then exited 0 failed: its output is lost
            error, returncode = self.log_error, None
        interrupted = self.cancelled and returncode != 0
        if error is None and (returncode != 0 or self.timed_out):
            error = self._exit_error(returncode, interrupted)
        return JobResult(key=self.job.key, returncode=returncode, started=self.started, finished=time.time(),
                         timed_out=self.timed_out, interrupted=interrupted and not self.timed_out,
                         error=error, log_tail="\n".join(self.tail))

    def _exit_error(self, returncode: int, interrupted: bool) -> str:
        if self.timed_out:
            return f"timed out after {self.job.timeout:g}s"
        if interrupted:
            return "interrupted"
        hint = sigpipe_hint(returncode)
        if hint:
            return hint
        if returncode < 0:
            return f"killed by signal {-returncode}"
        return f"exit {returncode}"


class _Log:
    """A job's log file, made when the first bytes arrive: a step that prints nothing leaves no file."""

    def __init__(self, path: str):
        self.path = path
        self.file = None
        self.broken = False  # a write failed: nothing more is written

    def write(self, chunk: bytes) -> None:
        try:
            if self.file is None:
                self.file = open_log(self.path)
            self.file.write(chunk)
        except OSError:
            self.broken = True
            raise

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _start_error(exc: OSError, program: str, cwd: str) -> str:
    if not os.path.isdir(cwd):
        return f"working directory does not exist: {cwd}"
    return f"cannot run {program}: {exc.strerror or exc}"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

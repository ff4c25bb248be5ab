"""Run jobs as local processes: one process group each, output to a log and a callback."""
from __future__ import annotations

import os
import queue
import selectors
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Callable

from datamake.build.attempt_logs import open_log
from datamake.build.executors.base import Job, JobResult
from datamake.build.executors.commands import Command, ProtocolError, command_for
from datamake.build.executors.shell import sigpipe_hint
from datamake.build.executors.spawn import Spawned, inherited_fds, spawn

TERM_GRACE = 2.0  # seconds a process group gets between SIGTERM and SIGKILL
TAIL_LINES = 20

OutputCallback = Callable[..., None]  # (job, line, stderr: bool = False)



class LocalExecutor:
    """Runs steps on this machine, each in its own process group (the Builder bounds how many).

    Each job is driven by a thread of a small pool that grows to the number of jobs running at
    once and is reused after (starting a thread per job cost more than most steps' own work).
    Output lines reach `on_output` in the thread that calls `wait()`, so reporters never
    see two threads at once. A job ends when its process has exited and its output pipe is
    closed (a background child still holding the pipe keeps it going, as in ninja), or when
    its timeout kills the whole group.
    """

    def __init__(self, jobs: int, on_output: OutputCallback | None = None):
        self.jobs = jobs
        self._on_output = on_output
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._running: set[_Run] = set()
        self._pool = _Pool()
        self._inherited = inherited_fds()  # listed once: closed in each child, as Popen would

    def submit(self, job: Job) -> None:
        """Start `job` now."""
        # Only a lone job may read the terminal (prompts, pdb); several would fight over it.
        stdin = None if self.jobs == 1 else subprocess.DEVNULL
        run = _Run(job, stdin, self._events.put, self._inherited)
        self._running.add(run)
        self._pool.run(run.main)
    def wait(self, timeout: float | None = None) -> list[JobResult]:
        """Block until at least one job finished (or `timeout`), delivering output meanwhile."""
        deadline = None if timeout is None else time.monotonic() + timeout
        results: list[JobResult] = []
        while True:
            block = not results and bool(self._running)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = self._events.get(block=block, timeout=remaining if block else None)
            except queue.Empty:
                return results
            result = self._handle(event)
            if result is not None:
                results.append(result)

    def _handle(self, event: tuple) -> JobResult | None:
        kind, run, payload = event
        if kind == "output":
            lines, stderr = payload
            if self._on_output is not None:
                for line in lines:
                    self._on_output(run.job, line, stderr)
            return None
        if run not in self._running:
            return None  # already given up on by cancel_all
        self._running.discard(run)
        return payload

    def cancel_all(self) -> list[JobResult]:
        """SIGTERM every running process group, SIGKILL after a grace; return every result."""
        runs = list(self._running)
        for run in runs:
            run.send(signal.SIGTERM, cancel=True)
        _join_all(runs, TERM_GRACE)
        for run in runs:
            if not run.done.is_set():
                run.send(signal.SIGKILL, cancel=True)
        _join_all(runs, 1.0)
        results = self.wait(timeout=0)
        # A pipe held open by a process that left the group (setsid) must not hang us.
        for run in [r for r in runs if r in self._running]:
            self._running.discard(run)
            results.append(run.result(None, "interrupted"))
        return results

    def close(self) -> None:
        """Stop whatever still runs; nothing else is held."""
        if self._running:
            self.cancel_all()


_UNLISTED = object()


class StepRun:
    """One job run to its end in the calling thread, outside any executor (a Dask task's body).

    `cancel()`, from any thread, stops it as `LocalExecutor.cancel_all` would: SIGTERM to its
    process group, SIGKILL after TERM_GRACE, and a pipe still held by a process that left the
    group is let go a second later; `done` is set once it has ended."""

    CANCEL_POLL = 0.2  # seconds: how soon the running thread acts on a cancel's deadlines

    _inherited: object = _UNLISTED  # listed once per process, as each executor lists them once

    def __init__(self, job: Job, stdin=subprocess.DEVNULL):
        if StepRun._inherited is _UNLISTED:
            StepRun._inherited = inherited_fds()
        self._run = _Run(job, stdin, self._keep, StepRun._inherited)
        self._run.poll = self.CANCEL_POLL
        self.done = self._run.done
        self._result: JobResult | None = None

    def execute(self) -> JobResult:
        self._run.main()()  # run, then report: the result reaches _keep and `done` is set
        return self._result

    def cancel(self) -> None:
        self._run.send(signal.SIGTERM, cancel=True)

    def _keep(self, event: tuple) -> None:
        if event[0] == "done":
            self._result = event[2]


def _join_all(runs: list[_Run], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for run in runs:
        run.done.wait(max(0.0, deadline - time.monotonic()))


class _Pool:
    """Threads that run one callable after another; a new one starts only when none is idle.

    An idle thread ends after IDLE_EXIT seconds without work, so an executor that is dropped
    without close() (a Dask task's) leaves nothing behind for long.
    """

    IDLE_EXIT = 5.0

    def __init__(self) -> None:
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def run(self, task: Callable[[], Callable[[], None]]) -> None:
        """Run `task` in a pool thread; it returns how to report its end, called once the thread is idle."""
        with self._lock:
            if self._idle:
                self._idle -= 1  # taken by the put below, under the lock, so no idle thread leaves meanwhile
                self._work.put(task)
                return
        threading.Thread(target=self._worker, args=(task,), name="datamake-job", daemon=True).start()

    def _worker(self, task: Callable[[], Callable[[], None]]) -> None:
        while True:
            report = task()
            with self._lock:
                self._idle += 1
            report()  # only now: whoever is told the task ended may hand this thread the next one
            task = self._next()
            if task is None:
                return

    def _next(self) -> Callable[[], Callable[[], None]] | None:
        while True:
            try:
                return self._work.get(timeout=self.IDLE_EXIT)
            except queue.Empty:
                with self._lock:
                    if self._work.empty():  # no task was handed to this thread meanwhile
                        self._idle -= 1
                        return None


class _Run:
    """One job's process, its output pump and its timeout, driven by one thread."""

    def __init__(self, job: Job, stdin, emit: Callable[[tuple], None], inherited: tuple[int, ...] | None = None):
        self.job = job
        self.stdin = stdin
        self.inherited = inherited
        self.emit = emit
        self.proc: subprocess.Popen | Spawned | None = None
        self.started = time.time()
        self.cancelled = self.timed_out = False
        self.deadline = None if job.timeout is None else time.monotonic() + job.timeout
        self.kill_at: float | None = None  # monotonic time to escalate to SIGKILL
        self.give_up_at: float | None = None  # stop reading a pipe an escaped process holds
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.log_error: str | None = None  # the log could not be written (a full disk): the step is stopped
        self.done = threading.Event()
        # Seconds between looks at the clock while nothing happens: set when another thread may
        # ask for a stop (StepRun.cancel) that the pump must act on without being woken.
        self.poll: float | None = None

    def main(self) -> Callable[[], None]:
        """Run the job to its end (in a pool thread); returns what reports its result."""
        try:
            result = self._execute()
        except Exception as exc:  # never lose a job to a bug in the pump: report it as its error
            self._kill_now()  # and never leave its process running behind us
            result = self.result(None, f"internal error: {type(exc).__name__}: {exc}")

        def report() -> None:
            self.emit(("done", self, result))
            self.done.set()
        return report

    def _execute(self) -> JobResult:
        try:
            command = command_for(self.job)
        except ProtocolError as exc:
            return self.result(None, str(exc))
        try:
            return self._run_logged(command)
        finally:
            if command.script:
                _unlink(command.script)

    def _run_logged(self, command: Command) -> JobResult:
        log = _Log(self.job.log_path)
        try:
            try:
                self.proc = spawn(command, self.job.cwd, self.stdin, self.inherited)
            except OSError as exc:
                return self.result(None, _start_error(exc, command.argv[0], self.job.cwd))
            if self.cancelled:  # cancel_all came while we were starting
                self.send(signal.SIGTERM)
            self._pump(log)
            self._reap()
        finally:
            log.close()
        return self.result(self.proc.returncode, None)

    def _pump(self, log) -> None:
        """Copy stdout and stderr to the log and the callback until both pipes close."""
        partial = {self.proc.stdout.fileno(): b"", self.proc.stderr.fileno(): b""}
        err = self.proc.stderr.fileno()
        with selectors.DefaultSelector() as sel:
            for fd in partial:
                sel.register(fd, selectors.EVENT_READ)
            while sel.get_map():
                ready = sel.select(self._next_timeout())
                if not ready and self._tick():
                    break
                for key, _events in ready:
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        sel.unregister(key.fd)
                        continue
                    self._write_log(log, chunk)
                    partial[key.fd] = self._lines(partial[key.fd] + chunk, key.fd == err)
        for fd, rest in partial.items():
            if rest:
                self._lines(rest + b"\n", fd == err)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def _write_log(self, log: _Log, chunk: bytes) -> None:
        """Append to the log; when it cannot be written, stop the step (its output would be lost) and drop the log."""
        if log.broken:
            return
        try:
            log.write(chunk)
        except OSError as exc:
            self.log_error = f"cannot write its log {self.job.log_path}: {exc.strerror or exc}"
            self.send(signal.SIGTERM)

    def _kill_now(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.send(signal.SIGKILL)
            self.proc.wait()

    def _lines(self, data: bytes, stderr: bool) -> bytes:
        """Emit the complete lines in `data`; return the unfinished rest."""
        *complete, rest = data.split(b"\n")
        if complete:
            lines = [c.decode("utf-8", "replace") for c in complete]
            self.tail.extend(lines)
            self.emit(("output", self, (lines, stderr)))
        return rest

    def _reap(self) -> None:
        while True:
            try:
                self.proc.wait(self._next_timeout())
                return
            except subprocess.TimeoutExpired:
                if self._tick():
                    self.proc.wait()  # SIGKILL was sent: the leader cannot outlive it
                    return

    def _next_timeout(self) -> float | None:
        """Seconds until the next thing to do (time out, escalate), or None to wait forever."""
        marks = (self.kill_at, self.give_up_at, None if self.timed_out else self.deadline)
        marks = [m for m in marks if m is not None]
        if self.poll is not None:
            marks.append(time.monotonic() + self.poll)
        return max(0.0, min(marks) - time.monotonic()) if marks else None

    def _tick(self) -> bool:
        """Act on a passed deadline; True when the pipe should be abandoned."""
        now = time.monotonic()
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

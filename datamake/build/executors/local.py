"""Run jobs as local processes, one process group each, all driven by one loop in the calling thread."""
from __future__ import annotations

import selectors
import signal
import subprocess
import threading
import time
from typing import Callable

from datamake.build.executors.base import Job, JobResult
from datamake.build.executors.job_process import TERM_GRACE, JobProcess
from datamake.build.executors.spawn import inherited_fds

__all__ = ["TERM_GRACE", "LocalExecutor", "OutputCallback", "StepRun"]

OutputCallback = Callable[..., None]  # (job, line, stderr: bool = False)


class LocalExecutor:
    """Runs steps on this machine, each in its own process group (the Builder bounds how many).

    One loop in the calling thread drives every job, as ninja's does: it waits on all their
    output pipes at once, copies output to logs and to `on_output`, reaps each process and acts on
    timeouts. No thread per job: handing each job to a thread and its result back cost more
    than most steps' own work on a busy machine. A job ends when its process has exited and its
    output pipes are closed (a background child still holding a pipe keeps it going, as in
    ninja), or when its timeout kills the whole group.
    """

    def __init__(self, jobs: int, on_output: OutputCallback | None = None):
        self.jobs = jobs
        self._on_output = on_output
        self._loop = _Loop()
        self._inherited = inherited_fds()  # listed once: closed in each child, as Popen would

    def submit(self, job: Job) -> None:
        """Start `job` now."""
        # Only a lone job may read the terminal (prompts, pdb); several would fight over it.
        stdin = None if self.jobs == 1 else subprocess.DEVNULL
        self._loop.start(JobProcess(job, stdin, self._output, self._inherited))

    def _output(self, run: JobProcess, lines: list[str], stderr: bool) -> None:
        if self._on_output is not None:
            for line in lines:
                self._on_output(run.job, line, stderr)

    def wait(self, timeout: float | None = None) -> list[JobResult]:
        """Block until at least one job finished (or `timeout`), delivering output meanwhile."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._loop.finished and self._loop.running:
            if not self._loop.turn(deadline):
                break
        return self._loop.take_finished()

    def cancel_all(self) -> list[JobResult]:
        """SIGTERM every running process group, SIGKILL after a grace; return every result."""
        runs = list(self._loop.running)
        for run in runs:
            run.send(signal.SIGTERM, cancel=True)
        self._loop.drain(time.monotonic() + TERM_GRACE)
        for run in self._loop.running:
            run.send(signal.SIGKILL, cancel=True)
        self._loop.drain(time.monotonic() + 1.0)
        # A pipe held open by a process that left the group (setsid) must not hang us.
        for run in list(self._loop.running):
            self._loop.abandon(run, run.result(None, "interrupted"))
        return self._loop.take_finished()

    def close(self) -> None:
        """Stop whatever still runs; nothing else is held."""
        if self._loop.running:
            self.cancel_all()
        self._loop.close()


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
        self._run = JobProcess(job, stdin, lambda _run, _lines, _stderr: None, StepRun._inherited)
        self._run.poll = self.CANCEL_POLL
        self.done = threading.Event()

    def execute(self) -> JobResult:
        loop = _Loop()
        try:
            loop.start(self._run)
            while loop.running:
                loop.turn(None)
            return loop.take_finished()[0]
        except BaseException:  # whatever went wrong, the step's process does not outlive its task
            if loop.running:
                self._run.send(signal.SIGKILL)
                self._run.reap(block=True)
            raise
        finally:
            loop.close()
            self.done.set()

    def cancel(self) -> None:
        self._run.send(signal.SIGTERM, cancel=True)


class _Loop:
    """Every running job's pipes in one selector; finished jobs' results kept until taken.

    In the main thread, SIGINT and SIGTERM are held while the loop updates its books, so the
    Builder's handler (which unwinds the run) only ever interrupts the wait itself: a result is
    never half taken, and one finished but not yet taken is still returned by `take_finished`."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.running: list[JobProcess] = []
        self.finished: list[JobResult] = []
        self._hold = _HELD_SIGNALS if threading.current_thread() is threading.main_thread() else None

    def start(self, run: JobProcess) -> None:
        failed = run.start()
        if failed is not None:
            self.finished.append(failed)
            return
        self.running.append(run)
        for pipe in run.pipes:
            self.selector.register(pipe, selectors.EVENT_READ, run)

    def turn(self, deadline: float | None) -> bool:
        """Wait for output, an exit or a deadline, and act on it; False once `deadline` has passed."""
        now = time.monotonic()
        marks = [] if deadline is None else [deadline]
        for run in self.running:
            mark = run.next_mark()
            if mark is not None:
                marks.append(mark)
            if run.poll is not None:
                marks.append(now + run.poll)
        ready = self.selector.select(max(0.0, min(marks) - now) if marks else None)
        held = self._hold is not None and signal.pthread_sigmask(signal.SIG_BLOCK, self._hold)
        try:
            for key, _events in ready:
                if key.data in self.running:
                    self._readable(key.data, key.fileobj)
            now = time.monotonic()
            for run in [r for r in self.running if (mark := r.next_mark()) is not None and mark <= now]:
                if run.tick(now):  # a pipe held by an escaped process (let go), or a polled exit
                    for pipe in list(run.pipes):
                        self._close(run, pipe)
                    self._reap(run, block=True)
        finally:
            if held is not False:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return deadline is None or time.monotonic() < deadline

    def _readable(self, run: JobProcess, source) -> None:
        if source == run.pidfd:
            self._reap(run, block=True)  # it has exited: the wait returns at once
        elif not run.read(source):
            self._close(run, source)
            if not run.pipes:
                self._reap(run, block=False)

    def _close(self, run: JobProcess, pipe) -> None:
        self.selector.unregister(pipe)
        run.close_pipe(pipe)

    def _reap(self, run: JobProcess, block: bool) -> None:
        """Collect an exited process whose pipes are closed; one still running is watched until it exits."""
        if run.reap(block) is None:
            pidfd = run.watch_exit()
            if pidfd is not None:
                self.selector.register(pidfd, selectors.EVENT_READ, run)
            return  # without a pidfd, its next mark (a short poll) comes back here through tick
        if run.pidfd is not None:
            self.selector.unregister(run.pidfd)
        self.running.remove(run)
        self.finished.append(run.finish())

    def drain(self, deadline: float) -> None:
        """Run until every job has ended or `deadline` passes."""
        while self.running and self.turn(deadline):
            pass

    def abandon(self, run: JobProcess, result: JobResult) -> None:
        run.proc.poll()  # its leader is reaped if it has exited, whatever holds the pipe
        for source in [*run.pipes, *([run.pidfd] if run.pidfd is not None else [])]:
            self.selector.unregister(source)
        run.release()
        self.running.remove(run)
        self.finished.append(result)

    def take_finished(self) -> list[JobResult]:
        taken, self.finished = self.finished, []
        return taken

    def close(self) -> None:
        self.selector.close()


_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}

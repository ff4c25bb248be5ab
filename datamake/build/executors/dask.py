"""Run jobs as Dask tasks: each task runs the step's process on a worker, as the local pool would."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import replace

import dask
from distributed import Client, Future, LocalCluster, as_completed
from distributed.comm import get_address_host_port
from distributed.comm.core import CommClosedError
from distributed.scheduler import KilledWorker

from datamake.errors import UsageError
from datamake.build.executors.base import Job, JobResult
from datamake.build.attempt_logs import read_tail
from datamake.build.executors.local import TERM_GRACE, OutputCallback, StepRun

LOG_TEXT_LIMIT = 1 << 20  # bytes of log sent back to the client, for when its disk is not the worker's
CONNECT_TIMEOUT = "10s"
PROBE_TIMEOUT = 5.0
WORKER_LOST = "worker lost"
# Errors that mean the worker (or the path to it) went away mid-task, not that the step failed.
_LOST = (KilledWorker, CommClosedError)

RETRY_POLL = 0.01  # seconds between checks for a finished task while a retry delay runs out
STOP_WAIT = TERM_GRACE + 3.0  # how long a cancel waits for a task to kill its process group

# Worker side: the running step of each task, by token, for cancel_on_worker. The step runs in
# the task's own thread (no hand-over to a job thread and back); a cancel only signals it, and
# that thread's pump escalates to SIGKILL after the grace, as in the local executor.
_TASKS: dict[str, StepRun] = {}
_TASKS_LOCK = threading.Lock()


def run_on_worker(job: Job, token: str) -> tuple[JobResult, str] | None:
    """The task body: run `job` here as the local executor would; return its result and log text,
    or None for a quiet success (exit 0, nothing printed), which the client then needs not fetch."""
    job, own_log = _writable_log(job)
    run = StepRun(job, stdin=subprocess.DEVNULL)
    with _TASKS_LOCK:
        _TASKS[token] = run
    try:
        result = run.execute()
    finally:
        with _TASKS_LOCK:
            _TASKS.pop(token, None)
    text = read_tail(job.log_path, LOG_TEXT_LIMIT)
    if own_log:
        os.unlink(job.log_path)
    return None if result.ok and not text else (result, text)


async def cancel_on_worker(tokens: list[str]) -> int:
    """Make the tasks with these tokens running here kill their process groups; wait for it."""
    with _TASKS_LOCK:
        runs = [_TASKS[t] for t in tokens if t in _TASKS]
    for run in runs:
        run.cancel()
    deadline = time.monotonic() + STOP_WAIT
    # A coroutine, so the worker's event loop keeps its heartbeats going meanwhile.
    while not all(run.done.is_set() for run in runs) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return len(runs)


def _writable_log(job: Job) -> tuple[Job, bool]:
    """Keep the job's log path when this worker can write there, else use a temporary file."""
    try:
        os.makedirs(os.path.dirname(job.log_path) or ".", exist_ok=True)
        return job, False
    except OSError:
        fd, path = tempfile.mkstemp(prefix="datamake-", suffix=".log")
        os.close(fd)
        return replace(job, log_path=path), True


def _interrupted(job: Job, started: float) -> JobResult:
    return JobResult(key=job.key, returncode=None, started=started, finished=time.time(),
                     interrupted=True, error="interrupted")


class DaskExecutor:
    """Runs each job as one Dask task on a cluster; the Builder bounds how many are in flight.

    Without `scheduler_address` a LocalCluster of two process workers on 127.0.0.1 is started
    at the first submit (a run with nothing to do starts nothing) and closed with the executor. Dask never retries a task itself (`retries=0`, and a
    started cluster allows no re-run after a worker death): a lost worker comes back as a
    failed JobResult with error `worker lost`, and datamake's own `retries` decide.
    Step output reaches `on_output` when the step finishes, not line by line.
    """

    def __init__(self, jobs: int, scheduler_address: str | None = None, on_output: OutputCallback | None = None):
        self.jobs = jobs
        self._on_output = on_output
        self._address = scheduler_address
        if scheduler_address is not None:
            _probe(scheduler_address)  # a bad address is a usage error before anything runs
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._running: dict[Future, tuple[Job, str, float]] = {}
        self._finished: list[JobResult] = []
        self._token_base, self._submitted = uuid.uuid4().hex[:12] + "-", 0
        # Tells of each task as it finishes, on Dask's event loop. Results are not gathered with
        # it: the scheduler tells the client a result's type, and a quiet success's is None, so
        # only failures and steps that printed cost the round trip to fetch their result.
        self._completed: as_completed | None = None

    @property
    def client(self) -> Client:
        """The Dask client, connecting (or starting the local cluster) on first use."""
        if self._client is None:
            if self._address is None:
                self._cluster = _local_cluster()
            self._client = Client(self._address or self._cluster, timeout=CONNECT_TIMEOUT, set_as_default=False)
            self._completed = as_completed(loop=self._client.loop)
        return self._client

    def submit(self, job: Job) -> None:
        """Send `job` to the cluster now (to a worker offering its resources)."""
        missing = job.resources and self._missing_resources(job.resources)
        if missing:
            self._finished.append(_failed(job, time.time(), f"no Dask worker offers resource {missing}"))
            return
        self._submitted += 1  # a counter after this executor's own random part: unique on a shared scheduler
        token = f"datamake-{job.key}-{self._token_base}{self._submitted}"
        future = self.client.submit(run_on_worker, job, token, key=token, pure=False, retries=0,
                                     resources=dict(job.resources) or None)
        self._running[future] = (job, token, time.time())
        self._completed.add(future)

    def wait(self, timeout: float | None = None) -> list[JobResult]:
        """Block until at least one job finished (or `timeout`), return the finished ones."""
        results, self._finished = self._finished, []
        block = not results and bool(self._running)
        done = [f for f in self._next_done(timeout if block else 0.0) if f in self._running]  # not given up on
        values = self._fetch([f for f in done if f.status == "finished" and f.type is not type(None)])
        return results + [self._collect(future, values) for future in done]

    def _fetch(self, futures: list[Future]) -> dict[Future, object]:
        """The results of these finished tasks, in one round trip; one whose worker went away with it
        is left out (skipped by the gather), and _collect reports the worker lost."""
        if not futures:
            return {}
        try:
            values = self.client.gather({future.key: future for future in futures}, errors="skip")
        except (*_LOST, CancelledError, OSError):
            return {}
        return {future: values[future.key] for future in futures if values.get(future.key) is not None}

    def _next_done(self, timeout: float | None) -> list[Future]:
        """Finished futures, blocking for one unless `timeout` runs out first."""
        if self._completed is None:
            return []
        if timeout is None:
            return self._completed.next_batch(block=True)
        # as_completed has no timed wait; this only runs while a retry delay counts down.
        deadline = time.monotonic() + timeout
        while not self._completed.has_ready() and time.monotonic() < deadline:
            time.sleep(max(0.0, min(RETRY_POLL, deadline - time.monotonic())))
        return self._completed.next_batch(block=False)

    def cancel_all(self) -> list[JobResult]:
        """Cancel every task and kill the process groups of those already running."""
        results = self.wait(timeout=0)
        running, self._running = self._running, {}
        if running:
            self._client.cancel(list(running), force=True)
            self._client.run(cancel_on_worker, [token for _, token, _ in running.values()])
        return results + [_interrupted(job, started) for job, _, started in running.values()]

    def close(self) -> None:
        """Stop what still runs, close the client and any cluster this executor started."""
        if self._running:
            self.cancel_all()
        if self._client is not None:
            self._client.close()
            self._client = self._completed = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _collect(self, future: Future, values: dict[Future, object]) -> JobResult:
        job, _token, started = self._running.pop(future)
        if future.status == "finished" and future.type is type(None):
            # A quiet success: its times are the client's (sent off, seen finished), not the worker's.
            return JobResult(key=job.key, returncode=0, started=started, finished=time.time())
        if future.status == "finished" and future in values:
            result, text = values[future]
            self._deliver(job, text)
            return result
        if future.status == "finished":
            return _failed(job, started, WORKER_LOST)
        if future.status == "cancelled":
            return _interrupted(job, started)
        exc = future.exception()
        if isinstance(exc, _LOST):
            return _failed(job, started, WORKER_LOST)
        return _failed(job, started, f"task failed on its worker: {type(exc).__name__}: {exc}")

    def _deliver(self, job: Job, text: str) -> None:
        """Write the log here when the worker's disk is not ours; replay output lines."""
        if text and not os.path.exists(job.log_path):  # a step that printed nothing has no log
            os.makedirs(os.path.dirname(job.log_path) or ".", exist_ok=True)
            with open(job.log_path, "w", encoding="utf-8") as handle:
                handle.write(text)
        if self._on_output is not None:
            for line in text.splitlines():
                self._on_output(job, line)

    def _missing_resources(self, wanted: dict[str, float]) -> str | None:
        """The first resource no connected worker offers enough of (a task would wait forever)."""
        workers = self.client.scheduler_info()["workers"].values()
        for name, amount in wanted.items():
            if not any(w.get("resources", {}).get(name, 0) >= amount for w in workers):
                return f"{name}={amount:g}"
        return None


def _failed(job: Job, started: float, error: str) -> JobResult:
    return JobResult(key=job.key, returncode=None, started=started, finished=time.time(), error=error)


def _local_cluster() -> LocalCluster:
    # Quiet: datamake reports lost workers itself, and shutdown chatter is not the user's concern.
    # allowed-failures=0: a worker death fails the task at once, so datamake's retries decide.
    # No dashboard; the scheduler's small HTTP server takes any free loopback port, not 8787.
    # No statistical profiling: on a small machine its 10 ms sampling competes with the steps.
    # Workers forked from a server that imported Dask once start faster than two fresh
    # interpreters each importing it (spawn, the default); the server leaves with this process.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.worker.profile.enabled": False,
                          "distributed.worker.multiprocessing-method": "forkserver"}):
        return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                            silence_logs=logging.CRITICAL)


def _probe(address: str) -> None:
    """Fail fast with a clear message: a Client that cannot connect spends half a minute giving up."""
    try:
        host, port = get_address_host_port(address)
    except ValueError as exc:
        raise UsageError(f"bad Dask scheduler address {address!r}: {exc}",
                         hint="write tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786") from None
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}",
                         hint="start one with `dask scheduler`, or leave out --dask-scheduler") from None

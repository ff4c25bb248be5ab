"""The state directory's lock: one datamake at a time builds from it; a dead holder's steps are stopped."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from typing import Iterator

from datamake.build.orphans import stop_orphans
from datamake.errors import LockHeld, warn
from datamake.store import schema
from datamake.store.schema import shown
from datamake.store.statedb import StateStore

# State directories this process holds the lock of, with how many holders share it.
_HELD: dict[str, int] = {}
_FRESH: set[str] = set()  # of those, the ones whose abandoned records nobody has closed yet
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def acquire_lock(state_dir: str) -> Iterator[None]:
    """Hold `state_dir/lock` exclusively for the block; another holder is a LockHeld (a UsageError).

    The lock is an fcntl lock, which the kernel drops when its process dies, so a lock
    file left by a crashed datamake is simply taken over. A process that already holds it
    (the schedule runner, building one interval after another) takes it again freely.
    """
    held = os.path.realpath(state_dir)
    with _HELD_GUARD:
        nested = _HELD.get(held, 0)
        if nested:
            _HELD[held] = nested + 1
    if nested:
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD[held] -= 1
        return
    schema.make_state_dir(state_dir)
    path = os.path.join(state_dir, "lock")
    fd = _open_lock(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise LockHeld(f"another datamake (pid {holder}) holds {shown(path)}") from None
    try:
        _stop_orphans_of(os.pread(fd, 32, 0), state_dir)
        _write_pid(fd, path)
        _HELD[held] = 1
        _FRESH.add(held)
        yield
    finally:
        _HELD.pop(held, None)
        _FRESH.discard(held)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # never unlink: a waiter may already hold the file open
        os.close(fd)


def _open_lock(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise schema.StateError(f"cannot open lock file {shown(path)}: {exc.strerror or exc}") from None


def _write_pid(fd: int, path: str) -> None:
    """Name this process in the lock file, so the next holder can stop our steps should we die."""
    try:
        os.ftruncate(fd, 0)
        if os.write(fd, f"{os.getpid()}\n".encode()) == 0:
            raise OSError(0, "nothing written")
    except OSError as exc:
        raise schema.StateError(f"cannot write lock file {shown(path)}: {exc.strerror or exc}") from None


def first_holder(state_dir: str) -> bool:
    """True once after this process took `state_dir`'s lock: no other datamake can be running on it,
    so `running` records left there are from a runner that died (see StateStore.close_abandoned_runs)."""
    held = os.path.realpath(state_dir)
    with _HELD_GUARD:
        if held in _FRESH:
            _FRESH.discard(held)
            return True
    return False


def _stop_orphans_of(previous: bytes, state_dir: str) -> None:
    """A pid left in the lock file is a holder that died without releasing it: stop its steps."""
    text = previous.decode("ascii", "replace").strip()
    if not text.isdigit() or int(text) == os.getpid():
        return
    stopped = stop_orphans(int(text), state_dir)
    if stopped:
        warn(f"stopped {stopped} step process group(s) left running by datamake pid {text}, "
             "which died; their steps will run again")


def open_store(state_dir: str) -> StateStore:
    """Open the state of a directory whose lock this process holds, closing runs a dead holder left open."""
    store = StateStore.open(state_dir)
    if first_holder(state_dir):
        store.close_abandoned_runs()
        store.settle_publishing()
    return store

"""The state directory's lock: one datamake at a time builds from it; a dead holder's steps are stopped."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from typing import Iterator

from datamake.build.orphans import stop_orphans
from datamake.errors import UsageError, warn
from datamake.store.schema import shown

# State directories this process holds the lock of, with how many holders share it.
_HELD: dict[str, int] = {}
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def acquire_lock(state_dir: str) -> Iterator[None]:
    """Hold `state_dir/lock` exclusively for the block; another holder is a UsageError.

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
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise UsageError(f"another datamake (pid {holder}) holds {shown(path)}") from None
    try:
        _stop_orphans_of(os.pread(fd, 32, 0), state_dir)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[held] = 1
        yield
    finally:
        _HELD.pop(held, None)
        os.ftruncate(fd, 0)  # never unlink: a waiter may already hold the file open
        os.close(fd)


def _stop_orphans_of(previous: bytes, state_dir: str) -> None:
    """A pid left in the lock file is a holder that died without releasing it: stop its steps."""
    text = previous.decode("ascii", "replace").strip()
    if not text.isdigit() or int(text) == os.getpid():
        return
    stopped = stop_orphans(int(text), state_dir)
    if stopped:
        warn(f"stopped {stopped} step process group(s) left running by datamake pid {text}, "
             "which died; their steps will run again")

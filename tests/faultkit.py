"""Fault-injection helpers: a small disk of our own (tmpfs, root only), filled on demand; error-line checks."""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from conftest import Project


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A 2 MiB tmpfs mounted for this test only; skipped where mounting needs a root we are not."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture
def disk_project(small_disk: Path) -> Project:
    """A project whose workflow, outputs and state directory all live on the small disk."""
    return Project(small_disk)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill `disk` with one file until it is full, then give back about `leave` bytes."""
    filler = disk / "filler"
    block = b"\0" * 65536
    with open(filler, "wb", buffering=0) as handle:
        while True:
            try:
                handle.write(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        for size in (4096, 512, 1):  # the last partial blocks
            try:
                while handle.write(b"\0" * size):
                    pass
            except OSError:
                continue
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def one_error_line(stderr: str) -> str:
    """The last stderr line, checked to be the one `datamake: error:` line with nothing internal about it."""
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, stderr
    return errors[0]

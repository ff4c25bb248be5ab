"""Thin storage layer: stamps, existence, atomic publish for local paths and fsspec URLs."""
from __future__ import annotations

import os
from dataclasses import dataclass

from .model import is_url


@dataclass(frozen=True)
class Stamp:
    """What a store says about one target, cheap to get and compared for equality.

    `mtime` is in seconds (float); `checksum` is the store's own (S3 ETag[/version]) or None.
    For a directory, `mtime` is its newest file's, recursively.
    """

    mtime: float
    size: int
    is_dir: bool = False
    checksum: str | None = None
    inode: int | None = None
    empty: bool = False  # an empty directory counts as missing output


def stat(name: str) -> Stamp | None:
    """The stamp of a local path or URL, or None when it does not exist."""
    if is_url(name):
        raise NotImplementedError("remote targets arrive with the storage issue")
    try:
        st = os.stat(name)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if os.path.isdir(name):
        return _dir_stamp(name)
    return Stamp(mtime=st.st_mtime_ns / 1e9, size=st.st_size, inode=st.st_ino)


def _dir_stamp(path: str) -> Stamp:
    newest, total, files = 0.0, 0, 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            try:
                st = os.stat(os.path.join(root, n))
            except FileNotFoundError:
                continue
            files += 1
            total += st.st_size
            newest = max(newest, st.st_mtime_ns / 1e9)
    return Stamp(mtime=newest, size=total, is_dir=True, empty=files == 0)


def exists(name: str) -> bool:
    return stat(name) is not None


def temp_name(name: str) -> str:
    """A temporary name beside `name`, keeping its extension: `d/report.csv` -> `d/.report.datamake-tmp.csv`.

    Deterministic, so a crashed run's leftovers are found and removed by the next one
    (the state-dir lock stops two runs from sharing it).
    """
    head, _, tail = name.rpartition("/")
    stem, dot, ext = tail.partition(".")
    tmp = f".{stem}.datamake-tmp" + (dot + ext if dot else "")
    return f"{head}/{tmp}" if head else tmp


def publish(tmp: str, final: str) -> None:
    """Move a finished temporary output onto its target in one step (rename on local disk)."""
    if is_url(final):
        raise NotImplementedError("remote targets arrive with the storage issue")
    if os.path.isdir(final) and not os.path.islink(final):
        import shutil

        shutil.rmtree(final)
    parent = os.path.dirname(final)
    if parent:
        os.makedirs(parent, exist_ok=True)
    os.replace(tmp, final)


def discard(name: str) -> None:
    """Remove a temporary output (file or directory) if it exists."""
    if is_url(name):
        raise NotImplementedError("remote targets arrive with the storage issue")
    import shutil

    if os.path.isdir(name) and not os.path.islink(name):
        shutil.rmtree(name, ignore_errors=True)
    else:
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


def ensure_parent(name: str) -> None:
    """Create the directory a local output will be written into."""
    if not is_url(name):
        parent = os.path.dirname(name)
        if parent:
            os.makedirs(parent, exist_ok=True)

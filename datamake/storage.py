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

"""Content fingerprints for hash mode: xxh3 of local bytes behind a stat-keyed cache, stores' own checksums for URLs."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Iterable, Protocol

import xxhash

from datamake.model import is_url
from datamake.store.stamps import Stamp, local_stat
from datamake.store.storage import Storage

_CHUNK = 1 << 20
# As git's index treats "racily clean" entries: a file whose mtime is not safely older than the
# moment it was hashed may be rewritten, same size, within the same timestamp tick (whole-second
# filesystems, coarse kernel clocks) without its stat changing. Its fingerprint is not cached, so
# it is read again next time; once older than this, its stat is trusted.
RACY_NS = 2_000_000_000


@dataclass
class HashStats:
    """How much content was actually read to fingerprint: zero on a no-op run with a warm cache."""

    files: int = 0
    bytes: int = 0
    remote_checksums: int = 0  # checksum requests beyond the stamp (e.g. HDFS GETFILECHECKSUM)

    def reset(self) -> None:
        self.files = self.bytes = self.remote_checksums = 0


STATS = HashStats()

HashRow = tuple[str, int, int, int, str]  # (path, size, mtime_ns, inode, fingerprint)


class HashCache(Protocol):
    """Where fingerprints of unchanged local files are remembered (the state store in a run)."""

    def get_hash(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None: ...

    def put_hashes(self, rows: Iterable[HashRow]) -> None: ...


class MemoryCache:
    """A HashCache in a dict, for runs without a state store (and the bench)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, int, int, int], str] = {}

    def get_hash(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        return self._rows.get((path, size, mtime_ns, inode))

    def put_hashes(self, rows: Iterable[HashRow]) -> None:
        for path, size, mtime_ns, inode, value in rows:
            self._rows[(path, size, mtime_ns, inode)] = value


def fingerprint(name: str, stamp: Stamp | None = None, cache: HashCache | None = None,
                storage: Storage | None = None) -> str | None:
    """The content fingerprint of a local path or URL (None when it does not exist).

    Never downloads: a URL's fingerprint is the store's own checksum (S3 ETag, HDFS file
    checksum), asked through `storage` (the workflow's). A local file is read only when its
    (size, mtime_ns, inode) is in no `cache` (the run's state store, passed in; without one,
    every call reads the file).
    """
    cache = cache if cache is not None else MemoryCache()
    storage = storage if storage is not None else Storage()
    stamp = stamp if stamp is not None else storage.stat(name)
    if stamp is None:
        return None
    if is_url(name):
        return _remote(name, stamp, storage)
    if stamp.is_dir:
        return _local_dir(name, cache)
    return _local_file(name, stamp, cache)


def _remote(name: str, stamp: Stamp, storage: Storage) -> str:
    if stamp.checksum:
        return ("tree:" if stamp.is_dir else "etag:") + stamp.checksum
    STATS.remote_checksums += 1
    return "sum:" + storage.checksum(name)


def _local_file(path: str, stamp: Stamp, cache: HashCache) -> str:
    mtime_ns = stamp.mtime_ns if stamp.mtime_ns is not None else os.stat(path).st_mtime_ns
    key = (path, stamp.size, mtime_ns, stamp.inode or 0)
    cached = cache.get_hash(*key)
    if cached is not None:
        return cached
    hashed_at = time.time_ns()
    value = "xxh3:" + hash_file(path)
    if hashed_at - mtime_ns >= RACY_NS:
        cache.put_hashes([(*key, value)])
    return value


def _local_dir(path: str, cache: HashCache) -> str:
    """A directory's fingerprint: every file's relative name and fingerprint, in order."""
    digest = xxhash.xxh3_128()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            stamp = local_stat(full)
            if stamp is None:  # vanished while walking
                continue
            digest.update(f"{os.path.relpath(full, path)}\0{_local_file(full, stamp, cache)}\n".encode())
    return "tree:" + digest.hexdigest()


def hash_file(path: str) -> str:
    """xxh3_128 of a file's bytes, counted in STATS."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            STATS.bytes += len(chunk)
    STATS.files += 1
    return digest.hexdigest()

"""Thin storage layer: stamps (one or in bulk), existence, atomic publish for local paths and fsspec URLs."""
from __future__ import annotations

import contextlib
import functools
import glob as globbing
import hashlib
import inspect
import os
import shutil
import threading
from stat import S_ISDIR
from collections import defaultdict
from typing import Iterable, Iterator

from datamake.errors import DatamakeError  # noqa: F401  (re-exported for callers)
from datamake.model import is_url
from datamake.store import storage_options
from datamake.store.stamps import Stamp, info_stamp  # noqa: F401  (Stamp re-exported)


class StorageError(DatamakeError):
    """A store could not be reached or refused a request (credentials never in the message)."""


def configure(options: dict[str, dict[str, str]]) -> None:
    """Set fsspec options per protocol, e.g. {"s3": {"endpoint_url": "http://127.0.0.1:9000"}}."""
    storage_options.set_options(options)


def filesystem(url: str):
    """The fsspec filesystem serving `url` and the path it knows the object by.

    `hdfs://HOST[:RPC]/path` goes to fsspec's WebHDFS client on HOST at the `hdfs.port`
    option (default 9870), so no Java or libhdfs is needed.
    """
    import fsspec

    routed, opts = storage_options.route(url)
    with guard(url):
        return fsspec.core.url_to_fs(routed, **opts)


@contextlib.contextmanager
def guard(url: str) -> Iterator[None]:
    """Turn a store's failure into one clear StorageError line; missing objects pass through."""
    try:
        yield
    except (FileNotFoundError, DatamakeError):
        raise
    except Exception as exc:  # boto, requests, aiohttp, pyarrow: each has its own error types
        reason = storage_options.redact(_one_line(exc))
        raise StorageError(f"cannot reach {url}: {reason}") from None


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# ---------------------------------------------------------------- stamps

# Remote stamps taken in bulk for the up-front decision, per thread (the schedule runner may
# decide intervals side by side); absent outside `snapshot()`.
_SNAPSHOT = threading.local()


@contextlib.contextmanager
def snapshot(names: Iterable[str]) -> Iterator[None]:
    """Within the block, `stat` answers each name once: remote ones from one bulk `stat_many`.

    For deciding a whole plan before anything runs: N objects under a prefix cost one
    listing, not N requests, and a file that is one step's output and another's input is
    stat'ed once. Outside the block every `stat` asks afresh (steps change files).
    """
    _SNAPSHOT.stamps = stat_many(n for n in names if "://" in n and is_url(n))
    try:
        yield
    finally:
        del _SNAPSHOT.stamps


def stat(name: str) -> Stamp | None:
    """The stamp of a local path or URL, or None when it does not exist."""
    stamps = getattr(_SNAPSHOT, "stamps", None)
    if stamps is None:
        return _remote_stat(name) if is_url(name) else _local_stat(name)
    try:
        return stamps[name]
    except KeyError:
        stamp = stamps[name] = _remote_stat(name) if is_url(name) else _local_stat(name)
        return stamp


def _local_stat(name: str) -> Stamp | None:
    try:
        st = os.stat(name)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if S_ISDIR(st.st_mode):
        return _dir_stamp(name)
    return Stamp(st.st_mtime_ns / 1e9, st.st_size, False, None, st.st_ino, False, st.st_mtime_ns)


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


def stat_many(names: Iterable[str]) -> dict[str, Stamp | None]:
    """Stamps of many names; remote ones sharing a parent prefix come from one listing."""
    result: dict[str, Stamp | None] = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for name in dict.fromkeys(names):
        if is_url(name):
            groups[name.rstrip("/").rpartition("/")[0]].append(name)
        else:
            result[name] = _local_stat(name)
    for parent, members in groups.items():
        if len(members) == 1 or not parent.partition("://")[2]:
            result.update((m, _remote_stat(m)) for m in members)  # one HEAD beats a listing
        else:
            result.update(_stat_group(parent, members))
    return result


def _remote_stat(url: str) -> Stamp | None:
    fs, path = filesystem(url)
    with guard(url):
        fs.invalidate_cache()  # another process (the step) may have written since
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return None
        if info.get("type") == "directory":
            return _remote_dir_stamp(fs, path)
        return info_stamp(info)


def _stat_group(parent: str, members: list[str]) -> dict[str, Stamp | None]:
    fs, ppath = filesystem(parent)
    with guard(parent):
        fs.invalidate_cache()
        # Each member is the parent plus its own last part (stat_many grouped them so); resolving
        # every URL again took fsspec ~0.1 ms each, most of a year-long schedule's tick.
        parts = {url: url.rstrip("/").rpartition("/")[2] for url in members}
        try:
            listing = _listing(fs, ppath, os.path.commonprefix(list(parts.values())))
        except FileNotFoundError:
            listing = {}
        out: dict[str, Stamp | None] = {}
        base = ppath.rstrip("/")
        for url in members:
            path = f"{base}/{parts[url]}"
            info = listing.get(path)
            if info is None:
                out[url] = None
            elif info.get("type") == "directory":
                out[url] = _remote_dir_stamp(fs, path)
            else:
                out[url] = info_stamp(info)
        return out


def _listing(fs, ppath: str, stem: str) -> dict[str, dict]:
    """The entries of folder `ppath` (one level) whose names start with `stem`, by name.

    Where the store can filter a listing by a name prefix (S3, GCS), only those are listed: a
    tick checking this week's `2026-11-2*.csv` in a folder of a year's files reads a few entries,
    not the year. Elsewhere, the whole folder."""
    if stem and _filters_by_prefix(type(fs)):
        found = fs.find(ppath, prefix=stem, maxdepth=1, withdirs=True, detail=True)
        return {name.rstrip("/"): e for name, e in found.items()}
    return {e["name"].rstrip("/"): e for e in fs.ls(ppath, detail=True)}


@functools.cache
def _filters_by_prefix(cls: type) -> bool:
    """Its `find` takes a name prefix and a depth (s3fs, gcsfs); fsspec's default find takes neither."""
    try:
        params = inspect.signature(getattr(cls, "_find", None) or cls.find).parameters
    except (TypeError, ValueError):
        return False
    return "prefix" in params and "maxdepth" in params


def _remote_dir_stamp(fs, path: str) -> Stamp:
    """A prefix counts by its newest object; its checksum summarises every object's."""
    files = fs.find(path, detail=True)
    stamps = {name: info_stamp(info) for name, info in files.items()}
    if not stamps:
        return Stamp(mtime=0.0, size=0, is_dir=True, empty=True)
    parts = [f"{name[len(path):]}={s.checksum or s.size}" for name, s in sorted(stamps.items())]
    import xxhash

    return Stamp(mtime=max(s.mtime for s in stamps.values()), size=sum(s.size for s in stamps.values()),
                 is_dir=True, checksum=xxhash.xxh3_128_hexdigest("\n".join(parts).encode()))


def checksum(url: str) -> str:
    """The store's own checksum of a remote object when its listing carries none (HDFS GETFILECHECKSUM).

    Asks the store; never downloads the bytes.
    """
    fs, path = filesystem(url)
    with guard(url):
        value = fs.ukey(path)
    if isinstance(value, dict):  # WebHDFS: {"algorithm", "bytes", "length"}
        return f"{value.get('algorithm', '')}:{value.get('bytes', '')}"
    return str(value)


def exists(name: str) -> bool:
    return stat(name) is not None


def glob(pattern: str) -> list[str]:
    """Names matching a glob (`*` within one path segment): local paths, or URLs of any store.

    A store answers with one listing of the folder or prefix above the first wildcard. Hidden
    names (datamake's own temporaries among them) are never matched, as with a shell's `*`.
    """
    if not is_url(pattern):
        return sorted(globbing.glob(pattern))
    fs, path = filesystem(pattern)
    protocol = pattern.split("://", 1)[0]
    with guard(pattern):
        found = fs.glob(path)
    return sorted(f"{protocol}://{p}" for p in found if not p.rpartition("/")[2].startswith("."))


# ---------------------------------------------------------------- atomic outputs

_NAME_MAX = 255  # bytes in one part of a path, on Linux and most stores


def temp_name(name: str) -> str:
    """A temporary name beside `name`, keeping its extension: `d/report.csv` -> `d/.report.datamake-tmp.csv`.

    Deterministic, so a crashed run's leftovers are found and removed by the next one
    (the state-dir lock stops two runs from sharing it). Works for URLs too: the temporary
    key sits beside the target key.
    """
    head, _, tail = name.rstrip("/").rpartition("/")
    stem, dot, ext = tail.partition(".")
    tmp = f".{stem}.datamake-tmp" + (dot + ext if dot else "")
    if len(os.fsencode(tmp)) > _NAME_MAX:  # a legal name near the limit: the stem gives way to its digest
        digest = hashlib.sha256(os.fsencode(tail)).hexdigest()[:16]
        ext = dot + ext if dot and len(os.fsencode(ext)) <= _NAME_MAX - 40 else ""
        tmp = f".{digest}.datamake-tmp{ext}"
    return f"{head}/{tmp}" if head else tmp


def publish(tmp: str, final: str) -> None:
    """Move a finished temporary output onto its target in one step.

    Local disk renames. S3 has no rename: objects are copied onto the target then the
    temporary deleted, so readers see the old or the new object, never a partial one.
    """
    if is_url(final) and not is_url(tmp):  # a `+local` step's output: upload beside, then publish
        remote_tmp = temp_name(final)
        discard(remote_tmp)
        try:
            upload(tmp, remote_tmp)
            _publish_remote(remote_tmp, final)
        finally:
            discard(remote_tmp)
        discard(tmp)
        return
    if is_url(final):
        _publish_remote(tmp, final)
        return
    try:
        os.replace(tmp, final)  # the temporary sits beside the target: its directory exists
    except OSError:
        if not os.path.isdir(final) or os.path.islink(final):
            raise
        shutil.rmtree(final)  # a directory output replacing its old tree
        os.replace(tmp, final)


def _publish_remote(tmp: str, final: str) -> None:
    fs, tpath = filesystem(tmp)
    fpath = filesystem(final)[1]
    with guard(final):
        fs.invalidate_cache()
        if fs.isdir(tpath):
            _publish_tree(fs, tpath, fpath)
        elif fs.protocol in ("webhdfs", "hdfs") or "webhdfs" in fs.protocol:
            if fs.exists(fpath):  # HDFS renames atomically but will not overwrite
                fs.rm(fpath, recursive=True)
            fs.mv(tpath, fpath)
        else:
            fs.copy(tpath, fpath)
            fs.rm(tpath)
        fs.invalidate_cache()


def _publish_tree(fs, tpath: str, fpath: str) -> None:
    """Copy every new object under the target prefix first, then drop stale ones."""
    new = fs.find(tpath)
    old = set(fs.find(fpath)) if fs.exists(fpath) else set()
    dests = [fpath + name[len(tpath):] for name in new]
    if new:
        fs.copy(new, dests)
    stale = sorted(old - set(dests))
    if stale:
        fs.rm(stale)
    fs.rm(tpath, recursive=True)


def upload(path: str, url: str) -> None:
    """Copy a local file or directory tree to `url` (a directory becomes objects under the prefix)."""
    fs, rpath = filesystem(url)
    with guard(url):
        if not os.path.isdir(path):
            fs.put_file(path, rpath)
            return
        for root, _dirs, files in os.walk(path):
            for name in files:
                local = os.path.join(root, name)
                fs.put_file(local, rpath + "/" + os.path.relpath(local, path).replace(os.sep, "/"))


def discard(name: str) -> None:
    """Remove a temporary output (file, directory or prefix) if it exists."""
    if is_url(name):
        fs, path = filesystem(name)
        with guard(name), contextlib.suppress(FileNotFoundError):
            fs.invalidate_cache()
            if fs.exists(path):
                fs.rm(path, recursive=True)
        return
    try:
        os.remove(name)  # a file or link, or usually nothing: one system call either way
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError):  # Linux says EISDIR, POSIX allows EPERM
        if not os.path.isdir(name):
            raise
        shutil.rmtree(name, ignore_errors=True)


def ensure_parent(name: str) -> None:
    """Create the directory a local output will be written into (stores make their own)."""
    if not is_url(name):
        parent = os.path.dirname(name)
        if parent and not os.path.isdir(parent):  # usually there: one stat, not mkdir and stat
            os.makedirs(parent, exist_ok=True)

"""How one loaded workflow's names are stat'ed, listed, opened, moved and removed: a Storage, on local paths and fsspec URLs."""
from __future__ import annotations

import contextlib
import functools
import glob as globbing
import inspect
import os
import shutil
from collections import defaultdict
from typing import Iterable, Iterator, Mapping

from datamake.errors import DatamakeError
from datamake.model import Workflow, is_url
from datamake.store import storage_options
from datamake.store.stamps import Stamp, info_stamp, local_stat, temp_name


class StorageError(DatamakeError):
    """A store could not be reached or refused a request (credentials never in the message)."""


class Storage:
    """The stores of one loaded workflow: its fsspec options per protocol and, in a snapshot, stamps read once.

    Made once per load (the command line, `datamake.load`, a Flow) and carried by the Workflow, so
    two workflows in one process each reach their own stores. Options look like
    {"s3": {"endpoint_url": "http://127.0.0.1:9000"}}; they are never printed.
    """

    def __init__(self, options: Mapping[str, Mapping[str, str]] | None = None):
        self._options = storage_options.normalize(options or {})
        self._stamps: dict[str, Stamp | None] | None = None  # a snapshot's; None asks the store each time

    @classmethod
    def configured(cls, directory: str, pairs: Iterable[str] = ()) -> "Storage":
        """The options of `datamake.cfg` in `directory` (or $DATAMAKE_CONFIG) overlaid by `pairs` (`s3.KEY=VALUE`)."""
        return cls(storage_options.gather(list(pairs), directory))

    def snapshot(self, names: Iterable[str]) -> "Storage":
        """This storage, whose `stat` answers each name once: remote ones from one bulk `stat_many`.

        For deciding a whole plan before anything runs: N objects under a prefix cost one
        listing, not N requests, and a file that is one step's output and another's input is
        stat'ed once. This storage itself still asks afresh each time (steps change files).
        """
        seen = Storage()
        seen._options = self._options
        seen._stamps = self.stat_many(n for n in names if "://" in n and is_url(n))
        return seen

    def filesystem(self, url: str):
        """The fsspec filesystem serving `url` and the path it knows the object by.

        `hdfs://HOST[:RPC]/path` goes to fsspec's WebHDFS client on HOST at the `hdfs.port`
        option (default 9870), so no Java or libhdfs is needed.
        """
        import fsspec

        routed, opts = storage_options.route(url, self._options)
        with self.guard(url):
            return fsspec.core.url_to_fs(routed, **opts)

    @contextlib.contextmanager
    def guard(self, url: str) -> Iterator[None]:
        """Turn a store's failure into one clear StorageError line; missing objects pass through."""
        try:
            yield
        except (FileNotFoundError, DatamakeError):
            raise
        except Exception as exc:  # boto, requests, aiohttp, pyarrow: each has its own error types
            reason = storage_options.redact(_one_line(exc), self._options)
            raise StorageError(f"cannot reach {url}: {reason}") from None

    # ------------------------------------------------------------ stamps

    def stat(self, name: str) -> Stamp | None:
        """The stamp of a local path or URL, or None when it does not exist."""
        stamps = self._stamps
        if stamps is None:
            return self._remote_stat(name) if is_url(name) else local_stat(name)
        try:
            return stamps[name]
        except KeyError:
            stamp = stamps[name] = self._remote_stat(name) if is_url(name) else local_stat(name)
            return stamp

    def exists(self, name: str) -> bool:
        return self.stat(name) is not None

    def stat_many(self, names: Iterable[str]) -> dict[str, Stamp | None]:
        """Stamps of many names; remote ones sharing a parent prefix come from one listing."""
        result: dict[str, Stamp | None] = {}
        groups: dict[str, list[str]] = defaultdict(list)
        for name in dict.fromkeys(names):
            if is_url(name):
                groups[name.rstrip("/").rpartition("/")[0]].append(name)
            else:
                result[name] = local_stat(name)
        for parent, members in groups.items():
            if len(members) == 1 or not parent.partition("://")[2]:
                result.update((m, self._remote_stat(m)) for m in members)  # one HEAD beats a listing
            else:
                result.update(self._stat_group(parent, members))
        return result

    def _remote_stat(self, url: str) -> Stamp | None:
        fs, path = self.filesystem(url)
        with self.guard(url):
            fs.invalidate_cache()  # another process (the step) may have written since
            try:
                info = fs.info(path)
            except FileNotFoundError:
                return None
            if info.get("type") == "directory":
                return _remote_dir_stamp(fs, path)
            return info_stamp(info)

    def _stat_group(self, parent: str, members: list[str]) -> dict[str, Stamp | None]:
        fs, ppath = self.filesystem(parent)
        with self.guard(parent):
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

    def checksum(self, url: str) -> str:
        """The store's own checksum of a remote object when its listing carries none (HDFS GETFILECHECKSUM).

        Asks the store; never downloads the bytes.
        """
        fs, path = self.filesystem(url)
        with self.guard(url):
            value = fs.ukey(path)
        if isinstance(value, dict):  # WebHDFS: {"algorithm", "bytes", "length"}
            return f"{value.get('algorithm', '')}:{value.get('bytes', '')}"
        return str(value)

    def glob(self, pattern: str) -> list[str]:
        """Names matching a glob (`*` within one path segment): local paths, or URLs of any store.

        A store answers with one listing of the folder or prefix above the first wildcard. Hidden
        names (datamake's own temporaries among them) are never matched, as with a shell's `*`.
        """
        if not is_url(pattern):
            return sorted(globbing.glob(pattern))
        fs, path = self.filesystem(pattern)
        protocol = pattern.split("://", 1)[0]
        with self.guard(pattern):
            found = fs.glob(path)
        return sorted(f"{protocol}://{p}" for p in found if not p.rpartition("/")[2].startswith("."))

    # ------------------------------------------------------------ atomic outputs

    def publish(self, tmp: str, final: str) -> None:
        """Move a finished temporary output onto its target in one step.

        Local disk renames. S3 has no rename: objects are copied onto the target then the
        temporary deleted, so readers see the old or the new object, never a partial one.
        """
        if is_url(final) and not is_url(tmp):  # a `+local` step's output: upload beside, then publish
            remote_tmp = temp_name(final)
            self.discard(remote_tmp)
            try:
                self.upload(tmp, remote_tmp)
                self._publish_remote(remote_tmp, final)
            finally:
                self.discard(remote_tmp)
            self.discard(tmp)
            return
        if is_url(final):
            self._publish_remote(tmp, final)
            return
        try:
            os.replace(tmp, final)  # the temporary sits beside the target: its directory exists
        except OSError:
            if not os.path.isdir(final) or os.path.islink(final):
                raise
            shutil.rmtree(final)  # a directory output replacing its old tree
            os.replace(tmp, final)

    def _publish_remote(self, tmp: str, final: str) -> None:
        fs, tpath = self.filesystem(tmp)
        fpath = self.filesystem(final)[1]
        with self.guard(final):
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

    def upload(self, path: str, url: str) -> None:
        """Copy a local file or directory tree to `url` (a directory becomes objects under the prefix)."""
        fs, rpath = self.filesystem(url)
        with self.guard(url):
            if not os.path.isdir(path):
                fs.put_file(path, rpath)
                return
            for root, _dirs, files in os.walk(path):
                for name in files:
                    local = os.path.join(root, name)
                    fs.put_file(local, rpath + "/" + os.path.relpath(local, path).replace(os.sep, "/"))

    def discard(self, name: str) -> None:
        """Remove a temporary output (file, directory or prefix) if it exists."""
        if is_url(name):
            fs, path = self.filesystem(name)
            with self.guard(name), contextlib.suppress(FileNotFoundError):
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


def storage_of(workflow: Workflow) -> Storage:
    """The Storage the workflow was loaded with; one without options (the environment's only) when it has none."""
    return workflow.storage if workflow.storage is not None else Storage()


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


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

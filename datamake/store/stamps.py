"""What a store says about one name (a Stamp), read from local disk or an fsspec listing; names beside a target."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from stat import S_ISDIR

from datamake.model import is_url


@dataclass(frozen=True)
class Stamp:
    """What a store says about one target, cheap to get and compared for equality.

    `mtime` is in seconds (float); `checksum` is the store's own content checksum (S3 ETag,
    HDFS file checksum) or None; `version` is the store's object version (S3 VersionId).
    For a directory, `mtime` is its newest file's, recursively.
    """

    mtime: float
    size: int
    is_dir: bool = False
    checksum: str | None = None
    inode: int | None = None
    empty: bool = False  # an empty directory counts as missing output
    mtime_ns: int | None = None  # exact local mtime, the key of the hash cache
    # Evidence only: a listing does not carry it while a HEAD does, and a rewrite of the same
    # bytes gets a new one, so it takes no part in equality.
    version: str | None = field(default=None, compare=False)


def local_stat(name: str) -> Stamp | None:
    """The stamp of a local path (a directory's is its newest file's), or None when it does not exist."""
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


def info_stamp(info: dict) -> Stamp:
    """A Stamp from one fsspec `info()`/listing entry, whatever store it came from.

    The checksum is the store's own content checksum: S3's ETag, GCS's md5Hash (or crc32c),
    Azure's Content-MD5 (adlfs nests it in content_settings, as bytes), HDFS's checksum.
    Azure's and GCS's lower-case `etag` change on every write of the same bytes: never used.
    """
    checksum = info.get("ETag") or info.get("md5Hash") or _azure_md5(info) or info.get("crc32c") \
        or info.get("checksum")
    version = info.get("VersionId") or info.get("generation")
    return Stamp(mtime=_info_mtime(info), size=int(info.get("size") or 0),
                 checksum=str(checksum).strip('"') if checksum else None,
                 version=str(version) if version else None)


def _azure_md5(info: dict) -> str | None:
    settings = info.get("content_settings")
    md5 = settings.get("content_md5") if isinstance(settings, dict) else getattr(settings, "content_md5", None)
    return bytes(md5).hex() if md5 else None


def _info_mtime(info: dict) -> float:
    if info.get("modificationTime") is not None:  # WebHDFS: milliseconds
        return float(info["modificationTime"]) / 1000
    for key in ("LastModified", "mtime", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and value:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return 0.0


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


def ensure_parent(name: str) -> None:
    """Create the directory a local output will be written into (stores make their own)."""
    if not is_url(name):
        parent = os.path.dirname(name)
        if parent and not os.path.isdir(parent):  # usually there: one stat, not mkdir and stat
            os.makedirs(parent, exist_ok=True)

"""Stamps: what a store says about one target, and how each store's listing entry reads as one."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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

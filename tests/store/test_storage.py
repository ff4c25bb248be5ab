"""Storage through its public functions: local disk, a real S3 server (moto), memory://, and HDFS routing."""
from __future__ import annotations

import os
import socket

import pytest

from datamake.errors import DatamakeError
from datamake.store import storage_options
from datamake.store.stamps import ensure_parent, temp_name
from datamake.store.storage import Storage, StorageError
from datamake.build.staging import Staging
from s3.server import bucket, s3_server  # noqa: F401  (fixtures)
from gcs.server import gcs_bucket, gcs_emulator  # noqa: F401  (fixtures)


storage = Storage()  # no options: the environment's only (the moto fixture sets AWS_ENDPOINT_URL)


def test_local_stamp_publish_and_discard(tmp_path):
    final = str(tmp_path / "out" / "report.csv")
    tmp = temp_name(final)
    assert tmp == str(tmp_path / "out" / ".report.datamake-tmp.csv")
    ensure_parent(tmp)
    open(tmp, "w").write("a,b\n")
    storage.publish(tmp, final)
    stamp = storage.stat(final)
    assert (stamp.size, stamp.mtime_ns, stamp.inode) == (4, os.stat(final).st_mtime_ns, os.stat(final).st_ino)
    assert not os.path.exists(tmp)
    storage.discard(final)
    assert storage.stat(final) is None


def test_s3_object_stamp_carries_etag_and_prefix_counts_by_newest_object(bucket):
    bucket.put("d/a.csv", "hello")
    bucket.put("d/sub/b.csv", "x")
    bucket.put("d/sub/c.csv", "yy")
    stamp = storage.stat(bucket.url("d/a.csv"))
    assert stamp.checksum == "5d41402abc4b2a76b9719d911017c592"  # md5("hello"): S3's ETag
    assert stamp.size == 5 and not stamp.is_dir
    tree = storage.stat(bucket.url("d/sub"))
    assert tree.is_dir and tree.size == 3 and not tree.empty
    assert storage.stat(bucket.url("d/missing.csv")) is None
    assert storage.exists(bucket.url("d/sub")) and not storage.exists(bucket.url("nothing/here"))


def test_stat_many_takes_stamps_under_one_prefix_from_one_listing(bucket):
    names = [bucket.url(f"parts/p{i}.csv") for i in range(20)]
    for i in range(20):
        bucket.put(f"parts/p{i}.csv", f"row {i}\n")
    before = len(bucket.server.requests(bucket.name))
    stamps = storage.stat_many(names + [bucket.url("parts/absent.csv")])
    made = bucket.server.requests(bucket.name)[before:]
    assert [r.method for r in made] == ["GET"] and "list-type" in made[0].query
    assert stamps[bucket.url("parts/absent.csv")] is None
    assert all(stamps[n] == storage.stat(n) for n in names)


def test_stat_many_lists_only_the_names_sharing_the_members_stem(bucket):
    for day in range(1, 29):  # a folder of history; the names asked for are this week's
        bucket.put(f"daily/2026-02-{day:02d}.csv", f"day {day}\n")
    bucket.put("daily/2026-02-25.parts/a.csv", "a")  # a prefix output among them
    asked = [bucket.url(f"daily/2026-02-{day}.csv") for day in (25, 26, 27, 29)] + [
        bucket.url("daily/2026-02-25.parts")]
    before = len(bucket.server.requests(bucket.name))
    stamps = storage.stat_many(asked)
    made = bucket.server.requests(bucket.name)[before:]
    lists = [r for r in made if "list-type" in r.query]
    # The folder's listing, then the prefix output's own (its newest object counts).
    assert [r.query["prefix"] for r in lists] == [["daily/2026-02-2"], ["daily/2026-02-25.parts/"]]
    assert len(made) == 2
    assert stamps[bucket.url("daily/2026-02-29.csv")] is None
    assert all(stamps[n] == storage.stat(n) for n in asked)
    assert stamps[bucket.url("daily/2026-02-25.parts")].is_dir


def test_stat_many_on_gcs_reads_the_same_stamps_from_a_listing_by_stem(gcs_bucket, monkeypatch):
    for key, value in gcs_bucket.env.items():
        monkeypatch.setenv(key, value)
    for day in range(20, 29):
        gcs_bucket.put(f"daily/2026-02-{day}.csv", f"day {day}\n")
    gcs_bucket.put("daily/2026-02-27.parts/a.csv", "a")
    asked = [gcs_bucket.url(f"daily/2026-02-{day}.csv") for day in (26, 27, 29)] + [
        gcs_bucket.url("daily/2026-02-27.parts")]
    stamps = storage.stat_many(asked)
    assert stamps[gcs_bucket.url("daily/2026-02-29.csv")] is None
    assert stamps[gcs_bucket.url("daily/2026-02-27.parts")].is_dir
    assert all(stamps[n] == storage.stat(n) for n in asked)


def test_remote_publish_copies_then_deletes_the_temporary_key(bucket):
    final = bucket.url("out/report.csv")
    tmp = temp_name(final)
    assert tmp == bucket.url("out/.report.datamake-tmp.csv")
    bucket.put("out/report.csv", "old")
    bucket.put("out/.report.datamake-tmp.csv", "new")
    storage.publish(tmp, final)
    assert bucket.keys() == ["out/report.csv"] and bucket.read("out/report.csv") == "new"


def test_remote_prefix_publish_replaces_the_old_objects(bucket):
    bucket.put("out/parts/old.csv", "stale")
    bucket.put("out/parts/keep.csv", "1")
    bucket.put("out/.parts.datamake-tmp/keep.csv", "2")
    bucket.put("out/.parts.datamake-tmp/new/x.csv", "3")
    storage.publish(bucket.url("out/.parts.datamake-tmp"), bucket.url("out/parts"))
    assert bucket.keys() == ["out/parts/keep.csv", "out/parts/new/x.csv"]
    assert bucket.read("out/parts/keep.csv") == "2"


def test_discard_removes_a_temporary_object_or_prefix(bucket):
    bucket.put("t/.a.datamake-tmp.csv", "x")
    bucket.put("t/.dir.datamake-tmp/1", "x")
    storage.discard(bucket.url("t/.a.datamake-tmp.csv"))
    storage.discard(bucket.url("t/.dir.datamake-tmp"))
    storage.discard(bucket.url("t/never-there"))
    assert bucket.keys() == []


def test_storage_options_reach_the_filesystem_with_types(bucket, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    configured = Storage(storage_options.parse_pairs(
        [f"s3.endpoint_url={bucket.server.endpoint}", "s3.anon=false", "s3.config_kwargs.max_pool_connections=4"]))
    fs, path = configured.filesystem(bucket.url("k.csv"))
    assert (fs.endpoint_url, fs.anon, path) == (bucket.server.endpoint, False, f"{bucket.name}/k.csv")
    assert fs.config_kwargs == {"max_pool_connections": 4}
    bucket.put("k.csv", "1")
    assert configured.stat(bucket.url("k.csv")).size == 1


def test_memory_protocol_publish_and_stamp():
    import fsspec

    mem = fsspec.filesystem("memory")
    mem.pipe_file("/dm-test/.x.datamake-tmp.txt", b"abc")
    storage.publish("memory://dm-test/.x.datamake-tmp.txt", "memory://dm-test/x.txt")
    assert storage.stat("memory://dm-test/x.txt").size == 3
    assert storage.stat("memory://dm-test/.x.datamake-tmp.txt") is None
    mem.rm("/dm-test", recursive=True)


def test_hdfs_names_route_to_webhdfs_on_the_namenode():
    from fsspec.implementations.webhdfs import WebHDFS

    fs, path = storage.filesystem("hdfs://namenode.example:8020/data/events.csv")
    assert isinstance(fs, WebHDFS) and path == "/data/events.csv"
    assert fs.url == "http://namenode.example:9870/webhdfs/v1"
    configured = Storage({"hdfs": {"port": "50070", "user": "etl", "use_https": "true"}})
    fs, _ = configured.filesystem("hdfs://namenode.example/data/events.csv")
    assert (fs.url, fs.user) == ("https://namenode.example:50070/webhdfs/v1", "etl")


def test_unreachable_namenode_is_one_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    configured = Storage({"webhdfs": {"port": str(port), "password": "hunter2-secret", "user": "etl"}})
    with pytest.raises(StorageError) as caught:
        configured.stat("hdfs://127.0.0.1/data/x.csv")
    text = caught.value.render()
    assert text.startswith("datamake: error: cannot reach hdfs://127.0.0.1/data/x.csv: ConnectionError")
    assert "\n" not in text and "hunter2-secret" not in text


def test_bad_storage_option_is_a_usage_error():
    with pytest.raises(DatamakeError, match="bad storage option: endpoint_url"):
        storage_options.parse_pairs(["endpoint_url=http://x"])


def test_staging_downloads_inputs_and_uploads_outputs_only_when_asked(bucket, tmp_path):
    bucket.put("in/data.csv", "b\na\n")
    bucket.put("in/dir/1.txt", "one")
    inputs = [bucket.url("in/data.csv"), bucket.url("in/dir"), str(tmp_path / "local.txt")]
    out = bucket.url("out/sorted.csv")
    stage = Staging.prepare(inputs, [out], storage, tmpdir=str(tmp_path))
    try:
        assert open(stage.local(inputs[0])).read() == "b\na\n"
        assert open(os.path.join(stage.local(inputs[1]), "1.txt")).read() == "one"
        assert stage.local(inputs[2]) == inputs[2]
        assert stage.local(out).endswith("/sorted.csv")
        open(stage.local(out), "w").write("a\nb\n")
        assert bucket.keys() == ["in/data.csv", "in/dir/1.txt"]  # nothing uploaded before success
        storage.publish(stage.outputs[out], out)
    finally:
        stage.cleanup()
    assert bucket.read("out/sorted.csv") == "a\nb\n"
    assert "out/.sorted.datamake-tmp.csv" not in bucket.keys()
    assert not os.path.exists(stage.root)


def test_versioned_bucket_stamps_carry_the_version_but_compare_by_content(bucket):
    bucket.fs.call_s3("put_bucket_versioning", Bucket=bucket.name,
                      VersioningConfiguration={"Status": "Enabled"})
    bucket.put("v/a.csv", "same")
    first = storage.stat(bucket.url("v/a.csv"))
    bucket.put("v/a.csv", "same")
    second = storage.stat(bucket.url("v/a.csv"))
    assert first.version and second.version and first.version != second.version
    assert second == storage.stat_many([bucket.url("v/a.csv"), bucket.url("v/b.csv")])[bucket.url("v/a.csv")]


def test_two_snapshots_in_one_thread_each_keep_their_own_stamps_and_the_storage_asks_afresh(bucket):
    names = [bucket.url("s/a.csv"), bucket.url("s/b.csv")]
    bucket.put("s/a.csv", "1")
    bucket.put("s/b.csv", "22")
    first = storage.snapshot(names)
    bucket.put("s/a.csv", "333")
    second = storage.snapshot(names)
    bucket.put("s/a.csv", "4444")
    before = len(bucket.server.requests(bucket.name))
    assert [first.stat(names[0]).size, second.stat(names[0]).size] == [1, 3]
    assert [first.stat(names[1]).size, second.stat(names[1]).size] == [2, 2]
    assert bucket.server.requests(bucket.name)[before:] == []  # answered from what each snapshot read
    assert storage.stat(names[0]).size == 4 and first.stat(names[0]).size == 1
